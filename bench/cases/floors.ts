/**
 * Floors: the least an API shape can cost, measured in the same run as the cases held to it.
 *
 * Each floor does strictly less than the ringbus case it stands under — the same producer, the
 * same bounded buffer of 1024, the same await or batch structure — but keeps no per-message
 * settle state (no ack, nack, timeout or redelivery bookkeeping, no generation checks). A target
 * whose peer × bound lies above (or just under) its floor asks ringbus to beat a queue that
 * cannot acknowledge anything: `bench/targets.ts` reports that ceiling next to the target.
 */
import { BATCH, CAPACITY, Sink, freshBatch, type Case, type Msg } from '../lib/harness.js';

const HALF = CAPACITY >>> 1;
const MASK = CAPACITY - 1;

/**
 * A bounded async channel on a ring of 1024: `recv()` returns a resolved promise of what `take()`
 * hands out (a pending one when nothing is ready), `send()` waits while full and resumes once
 * half is released. Each floor process builds one subclass only, so `take`/`ready` stay monomorphic.
 */
abstract class BareRingChannel<T, R> {
  protected readonly values: (T | undefined)[] = new Array<T | undefined>(CAPACITY).fill(undefined);
  protected head = 0;
  protected tail = 0;
  private closed = false;
  private receiver: ((r: R | undefined) => void) | null = null;
  private sender: (() => void) | null = null;

  /** Something is ready for `take()`. */
  protected abstract ready(): boolean;
  protected abstract take(): R;
  /**
   * Reads a field of what `recv()` resolves with, for its map check: as ringbus's
   * `ConsumerImpl.wait` does, so that V8 fulfills the promise without looking `then` up.
   */
  protected abstract pin(r: R): void;

  trySend(v: T): boolean {
    if (this.tail - this.head === CAPACITY) return false;
    this.values[this.tail++ & MASK] = v;
    if (this.receiver !== null) {
      const r = this.receiver;
      this.receiver = null;
      r(this.take());
    }
    return true;
  }

  send(v: T): Promise<void> {
    return new Promise<void>((resolve) => {
      this.sender = () => {
        this.trySend(v);
        resolve();
      };
    });
  }

  recv(): Promise<R | undefined> {
    if (this.ready()) {
      const r = this.take();
      this.pin(r);
      return Promise.resolve(r);
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise<R | undefined>((resolve) => (this.receiver = resolve));
  }

  close(): void {
    this.closed = true;
    if (this.receiver !== null && !this.ready()) {
      const r = this.receiver;
      this.receiver = null;
      r(undefined);
    }
  }

  /** Frees the oldest slot; a waiting sender resumes once half the ring is free. */
  protected release(): void {
    this.values[this.head++ & MASK] = undefined;
    if (this.sender !== null && this.tail - this.head <= HALF) {
      const s = this.sender;
      this.sender = null;
      s();
    }
  }
}

/** Nothing but the ring: `recv()` hands out the value itself and frees its slot at once. */
class BareChannel<T> extends BareRingChannel<T, T> {
  protected ready(): boolean {
    return this.head !== this.tail;
  }

  protected take(): T {
    const v = this.values[this.head & MASK] as T;
    this.release();
    return v;
  }

  protected pin(v: T): void {
    void (v as { id?: unknown }).id;
  }
}

/**
 * What a channel must do at the least: `recv()` hands out a {@link BareDelivery}, and the slot
 * stays taken until that delivery's `ack()` (a message is released only once settled, so a
 * waiting `send()` resumes once acks have drained half). `ack()` accepts the oldest delivery only:
 * no generation check, no timeouts, no redelivery, no acks out of order, no group.
 */
class BareAckChannel<T> extends BareRingChannel<T, BareDelivery<T>> {
  private readonly stamp = Date.now();
  private next = 0;

  protected ready(): boolean {
    return this.next !== this.tail;
  }

  protected take(): BareDelivery<T> {
    const off = this.next++;
    return new BareDelivery(this, 1, off, this.values[off & MASK] as T, undefined, NO_HEADERS, this.stamp, 1);
  }

  protected pin(d: BareDelivery<T>): void {
    void d.offset;
  }

  /** Releases the oldest slot (the bench acks in order). */
  ack(offset: number): void {
    if (offset !== this.head) throw new Error(`bare channel: ack of ${offset}, oldest is ${this.head}`);
    this.release();
  }
}

/**
 * The shape of a Delivery (eight fields) without anything behind it: no settle state. The channel
 * floor's deliveries free their slot with `ack()`; the batch floor settles by `commit` and never
 * calls it.
 */
class BareDelivery<T> {
  constructor(
    readonly owner: unknown,
    readonly gen: number,
    readonly offset: number,
    readonly value: T,
    readonly key: string | undefined,
    readonly headers: object,
    readonly timestamp: number,
    readonly deliveryCount: number,
  ) {}

  ack(): void {
    (this.owner as BareAckChannel<T>).ack(this.offset);
  }
}
// No `then` on the prototype, as for ringbus's Delivery (src/internal/memory/group/delivery.ts): `recv()`
// resolves with what `take()` just allocated, its map known, and V8 fulfills without a lookup —
// a floor takes every trick available.

const NO_HEADERS = Object.freeze({});

/**
 * A bounded batch queue of 1024 handing out delivery objects: `publishBatch` appends a run with
 * one timestamp (waiting while it does not fit, until half is drained), `recvBatch(max)` wraps up
 * to `max` ready messages in a {@link BareDelivery} each, `commit(offset)` releases everything below.
 */
class BareBatchQueue<T> {
  private readonly values: (T | undefined)[] = new Array<T | undefined>(CAPACITY).fill(undefined);
  private readonly stamps = new Float64Array(CAPACITY);
  private head = 0;
  private next = 0;
  private tail = 0;
  private closed = false;
  private receiver: (() => void) | null = null;
  private sender: (() => void) | null = null;

  publishBatch(list: readonly T[]): Promise<number[]> {
    if (this.tail - this.head + list.length > CAPACITY) {
      return new Promise<number[]>((resolve) => (this.sender = () => resolve(this.publishBatch(list))));
    }
    const stamp = Date.now();
    const offsets = new Array<number>(list.length);
    for (let k = 0; k < list.length; k++) {
      const off = this.tail++;
      this.values[off & MASK] = list[k];
      this.stamps[off & MASK] = stamp;
      offsets[k] = off;
    }
    this.wakeReceiver();
    return Promise.resolve(offsets);
  }

  async recvBatch(max: number): Promise<BareDelivery<T>[]> {
    if (this.next === this.tail) {
      if (this.closed) return [];
      await new Promise<void>((resolve) => (this.receiver = resolve));
      if (this.next === this.tail) return [];
    }
    const k = Math.min(max, this.tail - this.next);
    const out = new Array<BareDelivery<T>>(k);
    for (let j = 0; j < k; j++) {
      const off = this.next++;
      out[j] = new BareDelivery(this, 1, off, this.values[off & MASK] as T, undefined, NO_HEADERS, this.stamps[off & MASK], 1);
    }
    return out;
  }

  commit(offset: number): void {
    for (let o = this.head; o < offset; o++) this.values[o & MASK] = undefined;
    this.head = offset;
    if (this.sender !== null && this.tail - this.head <= HALF) {
      const s = this.sender;
      this.sender = null;
      s();
    }
  }

  close(): void {
    this.closed = true;
    this.wakeReceiver();
  }

  private wakeReceiver(): void {
    if (this.receiver !== null) {
      const r = this.receiver;
      this.receiver = null;
      r();
    }
  }
}

/**
 * A channel floor case: the producer sends a fresh message at a time (`trySend`, else `await
 * send`), the consumer awaits `recv()` per message and hands what it got to `take` (one process
 * runs one case, so `take` stays monomorphic and inlined).
 */
function channelFloor<R>(name: string, note: string, make: () => BareRingChannel<Msg, R>, take: (r: R, sink: Sink) => void): Case {
  return {
    name,
    group: 'floor',
    note,
    async prepare(n) {
      const ch = make();
      // what `run` works with, made once the way `run` makes it and held by the trial (kept until
      // the next trial has run, bench/case.ts): the hidden classes of the channel and of what it
      // hands out then outlive the GC between repetitions. Without them all instances died there,
      // V8 dropped their maps (transitions are weak), and the next repetition's objects got new
      // ones: every optimized method that checked the old maps was thrown away ("weak objects").
      const pinned = make();
      pinned.trySend({ id: -1, v: 'x' });
      const held = await pinned.recv();
      return {
        dispose() {
          void held;
        },
        async run() {
          const sink = new Sink();
          const producer = (async () => {
            for (let i = 0; i < n; i++) {
              const m = { id: i, v: 'x' };
              if (!ch.trySend(m)) await ch.send(m);
            }
            ch.close();
          })();
          for (;;) {
            const r = await ch.recv();
            if (r === undefined) break;
            take(r, sink);
          }
          await producer;
          return sink.result();
        },
      };
    },
  };
}

export const floorCases: Case[] = [
  channelFloor(
    'floor: bare async channel, await per message',
    'ring of 1024 and nothing else: trySend, else await send (resumes at half); await recv() per message; no acks, no delivery objects',
    () => new BareChannel<Msg>(),
    (m, sink) => sink.take(m),
  ),
  channelFloor(
    'floor: async channel of deliveries, ack frees the slot',
    'the bare channel as a channel must be: recv() resolves to an 8-field delivery object; its ack() frees the slot (oldest only); send waits until acks drain half; no settle state beyond the head',
    () => new BareAckChannel<Msg>(),
    (d, sink) => {
      sink.take(d.value);
      d.ack();
    },
  ),
  {
    name: 'floor: bare batch queue of delivery objects',
    group: 'floor',
    note: 'ring of 1024: await publishBatch of 100 fresh messages; recvBatch(100) wraps each in an 8-field object; commit(last + 1); no settle state',
    async prepare(n) {
      // the queue's and its deliveries' hidden classes, held by the trial: see channelFloor
      const pinned = new BareBatchQueue<Msg>();
      await pinned.publishBatch(freshBatch(0, 1));
      const held = await pinned.recvBatch(1);
      return {
        dispose() {
          void held;
        },
        async run() {
          const q = new BareBatchQueue<Msg>();
          const sink = new Sink();
          const producer = (async () => {
            for (let b = 0; b < n; b += BATCH) await q.publishBatch(freshBatch(b, n));
            q.close();
          })();
          for (;;) {
            const ds = await q.recvBatch(BATCH);
            if (ds.length === 0) break;
            for (let k = 0; k < ds.length; k++) sink.take(ds[k].value);
            q.commit(ds[ds.length - 1].offset + 1);
          }
          await producer;
          return sink.result();
        },
      };
    },
  },
];
