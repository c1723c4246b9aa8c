import type { SchedulerLike } from 'rxjs';
import type { Consumer, ConsumerOptions, Delivery, Message } from '../types.js';
import type { DeliveryImpl } from './delivery.js';
import type { Group } from './group.js';
import type { GroupMember, ValueSink } from './group-types.js';
import type { ConsumerPort, ReadyListener } from './port.js';
import { inspectCustom, inspectFields, type Inspect } from './inspect.js';
import { ConsumerIterator } from './consumer-iterator.js';
import { scheduleHeld } from './timer.js';
import { WaitList } from './wait-list.js';
import { duration, integer, options as checkOptions, signal as checkSignal } from './validate.js';

/** Settings of one member, already validated. */
export interface MemberSettings<T> {
  readonly prefetch: number;
  readonly filter: ((m: Message<T>) => boolean) | undefined;
  readonly auto: boolean;
  /** Register deliveries with a FinalizationRegistry (pull faces). */
  readonly track: boolean;
}

/**
 * One member of a group. It is the in-memory implementation of the consumer port every face
 * is built on ({@link ConsumerPort}), plus the waiting `recv*` methods.
 */
export class ConsumerImpl<T> implements Consumer<T>, ConsumerPort<T>, GroupMember<T> {
  held = 0;
  closed = false;
  /** The attached face's listener (`onReady`). @internal */
  listener: ReadyListener | null = null;
  /** Why the consumer was aborted, when it was. */
  abortReason: unknown = undefined;
  aborted = false;
  private readonly g: Group<T>;
  readonly prefetch: number;
  private readonly filter: ((m: Message<T>) => boolean) | undefined;
  private readonly auto: boolean;
  private readonly track: boolean;
  /** No filter, no `ack: 'auto'`, no codec: the fast paths apply. */
  private readonly plain: boolean;
  /** `recv`'s fast path applies: `plain`, not tracked, open, no failure to raise (kept in step by `close`, `fail` and `raise`). */
  private quick: boolean;
  private readonly waiters = new WaitList<DeliveryImpl<T>>();
  private signal: AbortSignal | undefined;
  private onAbort: (() => void) | undefined;

  constructor(g: Group<T>, settings: MemberSettings<T>, signal: AbortSignal | undefined) {
    this.g = g;
    this.prefetch = settings.prefetch;
    this.filter = settings.filter;
    this.auto = settings.auto;
    this.track = settings.track;
    this.plain = this.filter === undefined && !this.auto && g.host.decode === undefined;
    this.quick = this.plain && !this.track;
    if (signal !== undefined) {
      this.signal = signal;
      this.onAbort = () => this.abort(signal.reason);
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  get group(): string {
    return this.g.name;
  }

  /** `console.log(consumer)`: its topic and group, how many deliveries it holds, whether it is closed. */
  [inspectCustom](depth: number, options: object, inspect?: Inspect): string {
    const fields = { topic: this.g.host.name, group: this.g.name, prefetch: this.prefetch, unsettled: this.held, closed: this.closed };
    return inspectFields('Consumer', fields, depth, options, inspect);
  }

  /** The face told when a pull may succeed (see {@link ConsumerPort}). Attaching one tells the group that publishes must wake this member (`Group.mayWake`). */
  get onReady(): ReadyListener | null {
    return this.listener;
  }

  set onReady(l: ReadyListener | null) {
    this.listener = l;
    if (l !== null) this.g.mayWake = true;
  }

  /** Closed, or the topic is closed and this group has nothing left. */
  get done(): boolean {
    return this.closed || this.g.drained;
  }

  private get scheduler(): SchedulerLike {
    return this.g.host.scheduler;
  }

  tryRecv(): DeliveryImpl<T> | undefined {
    if (this.closed || this.held >= this.prefetch) return undefined;
    if (this.failure !== undefined) this.raise();
    // `=== true` is one compare; a bare `this.plain` compiles to V8's full truthiness test (false,
    // '', 0, NaN, 0n, document.all)
    if (this.plain === true && !this.track) {
      // the common case in one pass: no redelivery waiting, no TTL, no codec, no filter
      const d = this.g.takeFresh(this);
      if (d !== undefined) return d;
    }
    return this.tryRecvSlow();
  }

  /** `tryRecv` past `takeFresh`, out of line: it keeps `tryRecv` small enough to inline whole into a face's pull. */
  private tryRecvSlow(): DeliveryImpl<T> | undefined {
    const g = this.g;
    if (this.plain) {
      if (g.host.ordered) {
        if (!this.track) {
          const d = g.takeKeyed(this);
          if (d !== undefined) return d;
        }
      } else {
        const off = g.takeRaw(this, true);
        if (off >= 0) return g.wrap(off, this.track);
        if (off === -1) return this.starved() ? this.tryRecv() : undefined;
      }
    }
    const off = this.takeGeneral();
    if (off < 0) return this.starved() ? this.tryRecv() : undefined;
    const value = this.taken as T;
    this.taken = undefined;
    return g.deliver(this, off, this.auto, this.track, value);
  }

  /**
   * A take found nothing: unless the face still buffers deliveries for its reader, waiting
   * publishers go in now if there is any room (the low-water mark must never stall a consumer).
   * True when something was admitted: take again.
   */
  private starved(): boolean {
    return (this.listener === null || this.listener.hungry !== false) && this.g.host.refill();
  }

  /** The value `takeGeneral` took. */
  private taken: T | undefined = undefined;

  /**
   * The general path of a take: redeliveries, TTL, a codec, a filter. Returns the claimed offset
   * (its value, decoded, in `taken`) or -1 when nothing is ready.
   */
  private takeGeneral(): number {
    const g = this.g;
    const ring = g.host.ring;
    const filter = this.filter;
    const plain = g.host.decode === undefined;
    for (;;) {
      const off = g.take();
      if (off < 0) return -1;
      if (this.closed) {
        // a settle in this loop (a filtered or expired message) ran callbacks that closed this
        // member, or deleted its group: what the take claimed goes back
        g.unclaim(off);
        return -1;
      }
      let value: T;
      if (plain) value = ring.values[off & ring.mask] as T;
      else {
        const r = g.valueAt(off);
        if (!r.ok) continue;
        value = r.value;
      }
      if (filter !== undefined && !this.passes(off, value, filter)) continue;
      this.taken = value;
      return off;
    }
  }

  private passes(off: number, value: T, filter: (m: Message<T>) => boolean): boolean {
    let ok: boolean;
    try {
      ok = filter(this.g.message(off, value));
    } catch (e) {
      this.g.unclaim(off);
      throw e;
    }
    if (!ok) this.g.skip(off);
    return ok;
  }

  /**
   * The `values()` fast path: hands values to `sink` while it stays open and room allows,
   * settling each once `sink.next` returns, returning it if the sink closed meanwhile.
   * No Delivery is allocated. Returns true when it stopped only because nothing is ready and
   * the topic is open (the face has nothing else to check), false otherwise.
   */
  drainValues(sink: ValueSink<T>): boolean {
    const g = this.g;
    if (this.failure !== undefined) this.raise();
    if (this.plain) {
      if (this.sink !== sink && !this.closed) {
        this.sink = sink;
        g.updateDirect();
      }
      const was = this.busy;
      this.busy = true; // the face's listener is attached (it drains on `ready()`), so publishes wake this member: `again`
      try {
        let idle: boolean;
        do {
          this.again = false;
          idle = this.drainLane(sink);
        } while (this.again && !this.closed && !sink.closed);
        return idle;
      } finally {
        this.busy = was;
      }
    }
    return this.drainGeneral(sink);
  }

  /** The plain `values()` drain: the lane while caught up, `takeRaw` otherwise. */
  private drainLane(sink: ValueSink<T>): boolean {
    const g = this.g;
    const ring = g.host.ring;
    while (!this.closed && !sink.closed && this.held < this.prefetch) {
      const lane = g.laneOffset();
      if (lane >= 0) {
        // caught up: the message needs no slot state while the downstream holds it
        try {
          sink.next(ring.values[lane & ring.mask] as T);
        } catch (e) {
          g.laneDone(lane, false);
          throw e;
        }
        g.laneDone(lane, !sink.closed && !this.closed);
        continue;
      }
      if (lane === -1) {
        if (this.starved()) continue;
        return !g.host.closed;
      }
      const off = g.takeRaw(this);
      if (off === -1) {
        if (this.starved()) continue;
        return !g.host.closed;
      }
      if (off === -2) break; // redeliveries or TTL: the general path below
      const gen = g.rawGen;
      sink.next(ring.values[off & ring.mask] as T); // re-read: a re-entrant publish may grow the ring
      g.settleRaw(off, gen, !sink.closed);
    }
    return this.drainGeneral(sink);
  }

  /** The general `values()` drain: redeliveries, TTL, a codec, a filter, `ack: 'auto'`. */
  private drainGeneral(sink: ValueSink<T>): boolean {
    const g = this.g;
    while (!this.closed && !sink.closed && this.held < this.prefetch) {
      const off = this.takeGeneral();
      if (off < 0) {
        if (this.starved()) continue;
        return !g.host.closed;
      }
      const value = this.taken as T;
      this.taken = undefined;
      if (this.auto) {
        g.deliver(this, off, true, false, value);
        sink.next(value);
        continue;
      }
      const gen = g.deliverRaw(this, off);
      sink.next(value);
      g.settleRaw(off, gen, !sink.closed);
    }
    return false;
  }

  recv(options?: { signal?: AbortSignal }): Promise<Delivery<T> | undefined> {
    // `wait` → `tryRecv` → `takeFresh` for the common case, in one pass and small: a loop that
    // awaits `recv()` is optimized again after its first run ends (its exit had no feedback),
    // by then `recv` has optimized code of its own, and V8 inlines it only if that code's size
    // still fits the loop's inlining budget (`--trace-turbo-inlining`; `npm run bench:ir`).
    if (options === undefined && this.quick === true && this.held < this.prefetch && this.waiters.length === 0) {
      const d = this.g.takeFresh(this);
      if (d !== undefined) {
        void d.offset; // see wait
        return Promise.resolve(d);
      }
    }
    return this.recvSlow(options);
  }

  private recvSlow(options: { signal?: AbortSignal } | undefined): Promise<Delivery<T> | undefined> {
    let signal: AbortSignal | undefined;
    try {
      signal = waitSignal(options);
    } catch (e) {
      return Promise.reject(e); // a promise-returning method never throws
    }
    return this.wait(signal, Infinity);
  }

  recvTimeout(ms: number, options?: { signal?: AbortSignal }): Promise<Delivery<T> | undefined> {
    let signal: AbortSignal | undefined;
    try {
      duration('ms', ms, 0, true);
      signal = waitSignal(options);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.wait(signal, ms);
  }

  recvBatch(max: number, options?: { signal?: AbortSignal }): Promise<Delivery<T>[]> {
    let signal: AbortSignal | undefined;
    try {
      integer('max', max, 1, 2 ** 20);
      signal = waitSignal(options);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.waiters.length === 0 && !this.aborted && signal?.aborted !== true) {
      // a batch that is ready now is handed over without waiting on a promise of its first delivery
      let first: DeliveryImpl<T> | undefined;
      try {
        first = this.tryRecv();
      } catch (e) {
        return Promise.reject(e);
      }
      if (first !== undefined) return Promise.resolve(this.fillBatch(first, max));
    }
    return this.wait(signal, Infinity).then((first) => (first === undefined ? [] : this.fillBatch(first, max)));
  }

  /** The rest of a batch after its first delivery: what is ready now, up to `max` in all. */
  private fillBatch(first: Delivery<T>, max: number): Delivery<T>[] {
    let out: Delivery<T>[];
    if (this.plain && !this.track && !this.closed) {
      // a batch moves as a batch: the rest of it claimed in one run (closed meanwhile: nothing more)
      const room = Math.min(max - 1, this.prefetch - this.held, this.g.backlog());
      out = new Array<Delivery<T>>(1 + room); // filled by index: no growth copies per batch
      out[0] = first;
      const k = this.g.takeRun(this, room, out as DeliveryImpl<T>[], 1);
      if (k < room) out.length = 1 + k;
    } else out = [first];
    try {
      while (out.length < max) {
        const d = this.tryRecv();
        if (d === undefined) break;
        out.push(d);
      }
    } catch {
      // a filter threw: its message went back, and the next take runs into it again; what this
      // batch already claimed is handed over instead of being held by nobody
    }
    return out;
  }

  private wait(signal: AbortSignal | undefined, ms: number): Promise<Delivery<T> | undefined> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.aborted) return Promise.reject(this.abortReason);
    if (this.waiters.length === 0) {
      let d: Delivery<T> | undefined;
      try {
        d = this.tryRecv();
      } catch (e) {
        return Promise.reject(e);
      }
      if (d !== undefined) {
        // The read is for its map check: with `d`'s map known, V8 proves no `then` on its chain and
        // fulfills the promise directly, where a delivery of unknown map (`tryRecv` merges its
        // paths) has `then` looked up at run time on every recv. See DeliveryImpl: nothing
        // defines `then`.
        void d.offset;
        return Promise.resolve(d);
      }
      if (this.done || ms === 0) return Promise.resolve(undefined);
    }
    this.g.mayWake = true; // a publish must wake this member now
    return this.waiters.add(signal, ms, this.scheduler);
  }

  private serveWaiters(): void {
    this.waiters.serve(this);
    if (this.waiters.length > 0 && this.done) this.flushWaiters();
  }

  private flushWaiters(): void {
    this.waiters.flush(this.aborted, this.abortReason);
  }

  /**
   * Someone waits on this member: a `recv` (or iterator `next()`) is pending, or a face is
   * attached that waits (a subscribed Observable; a stream while a read is pending). A group's
   * redelivery timers hold the process only then (see timer.ts).
   */
  get waited(): boolean {
    if (this.closed) return false;
    if (this.waiters.length > 0) return true;
    const l = this.listener;
    return l !== null && l.waiting !== false;
  }

  /** Waiting for a message it has room for: a `recv` is pending, or an attached face wants more and buffers nothing. */
  get hungry(): boolean {
    if (this.closed || this.held >= this.prefetch) return false;
    return this.waiters.length > 0 || (this.listener !== null && this.listener.hungry !== false);
  }

  /** A plain value sink (`values()`), once the face has drained into it: the group may push to it directly. */
  sink: ValueSink<T> | null = null;
  /** A `messages()` subscriber the group may hand fresh deliveries to directly (see `attachDeliveries`). */
  dsink: ValueSink<Delivery<T>> | null = null;

  attachDeliveries(sink: ValueSink<Delivery<T>> | null): void {
    const plain = this.plain && !this.track;
    this.dsink = plain && !this.closed ? sink : null;
    this.g.updateDirect();
  }

  /** True while handing values to `sink` (a drain or a direct push): a wake meanwhile sets `again`. */
  busy = false;
  again = false;
  /** What a direct push's sink threw, for the face's next drain to raise. */
  private failure: unknown = undefined;

  /** A direct push's sink threw: the face learns it through its next pull. */
  fail(e: unknown): void {
    this.failure = e;
    this.quick = false;
    this.onAvailable();
  }

  /** A `messages()` hand-off's sink threw while this member was busy with it (one call: it keeps `Group.pushDelivery` under V8's inlining limit). */
  handOffFailed(e: unknown): void {
    this.busy = false;
    this.fail(e);
  }

  /** Throws what a direct push's sink threw, once: the face errors as if its own pull had thrown. */
  private raise(): never {
    const e = this.failure;
    this.failure = undefined;
    this.quick = this.plain && !this.track && !this.closed;
    throw e;
  }

  /**
   * The group may have something for this member (or has drained). Small on purpose (every
   * publish inlines it): a member with no `recv` waiting and no face attached returns at once.
   */
  onAvailable(): void {
    if (this.wakeable()) this.wakeUp();
  }

  /** A wake would do something: the member is handing out (a wake sets `again`), a `recv` waits, or a face is attached. */
  wakeable(): boolean {
    return this.busy || this.waiters.length > 0 || this.listener !== null;
  }

  private wakeUp(): void {
    if (this.busy) {
      this.again = true;
      return;
    }
    if (this.waiters.length > 0) {
      this.serveWaiters();
      return;
    }
    const l = this.listener;
    if (l === null) return;
    // busy while the face hands out: a wake meanwhile is replayed here, and no direct hand-off nests inside
    this.busy = true;
    try {
      do {
        this.again = false;
        l.ready();
      } while (this.again && this.listener === l);
    } finally {
      this.busy = false;
    }
  }

  /**
   * One of this member's deliveries was settled or returned. A face or waiter stalls only on an
   * empty group (a publish wakes it) or a full prefetch window, so only the settle that reopens
   * the window needs to wake it.
   */
  onSettled(): void {
    if (!this.closed && this.held === this.prefetch - 1) this.onAvailable();
  }

  /** On a closed consumer: false, nothing done (see `Consumer.closed`: a closed consumer is finished, not broken). */
  /** While the topic's store opens, the commit waits for it (and applies unless this consumer closed meanwhile). */
  commit(offset: number): boolean {
    integer('offset', offset, 0, Number.MAX_SAFE_INTEGER);
    if (this.closed) return false;
    if (this.g.host.opening) this.g.host.whenOpen(() => this.closed || this.g.commit(offset));
    else this.g.commit(offset);
    return true;
  }

  seek(offset: number): boolean {
    integer('offset', offset, 0, Number.MAX_SAFE_INTEGER);
    if (this.closed) return false;
    if (this.g.host.opening) this.g.host.whenOpen(() => this.closed || this.g.seek(offset));
    else this.g.seek(offset);
    return true;
  }

  close(): void {
    this.leave(false, undefined);
  }

  /** See {@link ConsumerPort.unsubscribe}. */
  unsubscribe(unseen: Delivery<T> | undefined): void {
    this.leave(true, unseen);
  }

  private leave(keep: boolean, unseen: Delivery<T> | undefined): void {
    if (this.closed && this.leaving !== true) return;
    this.closing();
    this.leaving = false;
    if (this.onAbort !== undefined) this.signal?.removeEventListener('abort', this.onAbort);
    this.g.leave(this, keep, unseen === undefined ? -1 : unseen.offset);
    this.flushWaiters();
    this.listener?.ready();
  }

  /** True between {@link closing} and the {@link close} that finishes it. */
  private leaving = false;

  /**
   * The first half of {@link close}: takes nothing more and is handed nothing more. Its group is
   * being deleted and closes every member only after dropping its state (`TopicImpl.deleteGroup`).
   */
  closing(): void {
    if (this.closed) return;
    this.closed = true;
    this.leaving = true;
    this.quick = false;
    this.sink = null;
    this.dsink = null;
  }

  /** Closes because a signal aborted: waiters and faces see `reason`. */
  abort(reason: unknown): void {
    if (this.closed) return;
    this.aborted = true;
    this.abortReason = reason;
    this.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  get returns(): number {
    return this.g.returns;
  }

  get more(): boolean {
    return this.g.hasAvailable();
  }

  defer(work: () => void): void {
    scheduleHeld(this.scheduler, 0, work); // a subscribed face's next pass: it waits for it
  }

  [Symbol.asyncIterator](): AsyncIterator<Delivery<T>> {
    return new ConsumerIterator(this);
  }

  /**
   * An inert consumer (never joined to a group) and its iterator, keeping both hidden classes
   * alive for the reason given at `DeliveryImpl.anchor`: `topic.consume()` opens its consumer
   * when the loop starts, so between two loops none may be alive.
   * @internal
   */
  static readonly anchor: unknown = ConsumerImpl.inert();

  private static inert(): [ConsumerImpl<unknown>, ConsumerIterator<unknown>] {
    const group = { host: { decode: undefined }, name: '' } as unknown as Group<unknown>;
    const c = new ConsumerImpl<unknown>(group, { prefetch: 1, filter: undefined, auto: false, track: false }, undefined);
    c.closed = true;
    return [c, new ConsumerIterator(c)];
  }
}

const WAIT_KEYS = ['signal'] as const;

/** The `signal` of `recv`/`recvTimeout`/`recvBatch` options (ConfigError for anything else). */
function waitSignal(options: { signal?: AbortSignal } | undefined): AbortSignal | undefined {
  if (options === undefined) return undefined;
  return checkSignal('signal', checkOptions<{ signal?: AbortSignal }>('recv options', options, WAIT_KEYS).signal);
}

/** Validates the member options shared by every face. */
export function memberSettings<T>(options: ConsumerOptions<T>): MemberSettings<T> {
  const prefetch = options.prefetch === undefined ? 256 : integer('prefetch', options.prefetch, 1, 2 ** 20);
  return { prefetch, filter: options.filter, auto: options.ack === 'auto', track: options.returnOnGc === true };
}
