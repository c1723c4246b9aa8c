import type { SchedulerLike } from 'rxjs';
import type { Consumer, ConsumerOptions, Delivery, Message } from '../../../types.js';
import type { DeliveryImpl } from './delivery.js';
import { takeFresh } from '../hot/fresh.js';
import { resolved } from '../hot/resolved.js';
import { drainValues, type HandingOut, tryRecvSlow } from './hand-out.js';
import { recvBatch, recvTimeout, recvWaiting, type Receiving } from './receive.js';
import type { Group } from './group.js';
import type { GroupMember, ValueSink } from './group-types.js';
import type { ConsumerPort, ReadyListener } from '../../faces/port.js';
import { inspectCustom, inspectFields, type Inspect } from '../../inspect.js';
import { ConsumerIterator } from '../../faces/consumer-iterator.js';
import { scheduleHeld } from '../../timer.js';
import { WaitList } from '../../faces/wait-list.js';
import { integer } from '../../validate.js';

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
 * is built on ({@link ConsumerPort}), plus the waiting `recv*` methods: its fast paths are here,
 * the general hand-out in hand-out.ts, the waiting receives in receive.ts.
 */
export class ConsumerImpl<T> implements Consumer<T>, ConsumerPort<T>, GroupMember<T>, HandingOut<T>, Receiving<T> {
  held = 0;
  closed = false;
  /** The attached face's listener (`onReady`). @internal */
  listener: ReadyListener | null = null;
  /** Why the consumer was aborted, when it was. */
  abortReason: unknown = undefined;
  aborted = false;
  /** @internal */ readonly g: Group<T>;
  readonly prefetch: number;
  /** @internal */ readonly filter: ((m: Message<T>) => boolean) | undefined;
  /** @internal */ readonly auto: boolean;
  /** @internal */ readonly track: boolean;
  /** @internal No filter, no `ack: 'auto'`, no codec: the fast paths apply. */
  readonly plain: boolean;
  /** `recv`'s fast path applies: `plain`, not tracked, open, no failure to raise (kept in step by `close`, `fail` and `raise`). */
  private quick: boolean;
  /** @internal */ readonly waiters = new WaitList<DeliveryImpl<T>>();
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

  /** @internal (Receiving) Plain and not tracked: a batch may be claimed in one pass. */
  get batchable(): boolean {
    return this.plain && !this.track;
  }

  /** @internal */ get scheduler(): SchedulerLike {
    return this.g.host.scheduler;
  }

  tryRecv(): DeliveryImpl<T> | undefined {
    if (this.closed || this.held >= this.prefetch) return undefined;
    if (this.failure !== undefined) this.raise();
    // `=== true` is one compare; a bare `this.plain` compiles to V8's full truthiness test (false,
    // '', 0, NaN, 0n, document.all)
    if (this.plain === true && !this.track) {
      // the common case in one pass: no redelivery waiting, no TTL, no codec, no filter
      const d = takeFresh(this.g, this);
      if (d !== undefined) return d;
    }
    return tryRecvSlow(this); // out of line: `tryRecv` stays small enough to inline whole into a face's pull
  }

  /** @internal (HandingOut) The value the general take took. */
  taken: T | undefined = undefined;

  /** The `values()` drain (see `drainValues` in hand-out.ts). */
  drainValues(sink: ValueSink<T>): boolean {
    return drainValues(this, sink);
  }

  recv(options?: { signal?: AbortSignal }): Promise<Delivery<T> | undefined> {
    // `wait` → `tryRecv` → `takeFresh` for the common case, in one pass and small: a loop that
    // awaits `recv()` is optimized again after its first run ends (its exit had no feedback),
    // by then `recv` has optimized code of its own, and V8 inlines it only if that code's size
    // still fits the loop's inlining budget (`--trace-turbo-inlining`; `npm run bench:ir`).
    if (options === undefined && this.quick === true && this.held < this.prefetch && this.waiters.length === 0) {
      const d = takeFresh(this.g, this);
      if (d !== undefined) return resolved(d);
    }
    return recvWaiting(this, options);
  }

  recvTimeout(ms: number, options?: { signal?: AbortSignal }): Promise<Delivery<T> | undefined> {
    return recvTimeout(this, ms, options);
  }

  recvBatch(max: number, options?: { signal?: AbortSignal }): Promise<Delivery<T>[]> {
    return recvBatch(this, max, options);
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
  /** @internal */ failure: unknown = undefined;

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
  /** @internal */ raise(): never {
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

/** Validates the member options shared by every face. */
export function memberSettings<T>(options: ConsumerOptions<T>): MemberSettings<T> {
  const prefetch = options.prefetch === undefined ? 256 : integer('prefetch', options.prefetch, 1, 2 ** 20);
  return { prefetch, filter: options.filter, auto: options.ack === 'auto', track: options.returnOnGc === true };
}
