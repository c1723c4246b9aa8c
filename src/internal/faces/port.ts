import type { Delivery } from '../../types.js';

/**
 * The face side of a port: what a face attaches as the port's `onReady`. Its presence is the
 * face's demand (an attached face wants up to `prefetch`); `hungry` and `waiting` refine it.
 */
export interface ReadyListener {
  /** A `tryRecv` may succeed now, or the port became `done` (or aborted). May be called re-entrantly. */
  ready(): void;
  /**
   * Demand: false while the face still buffers deliveries its reader has not taken (a stream's
   * queue), so it wants nothing more even when the group has nothing left. Absent means true.
   */
  readonly hungry?: boolean;
  /**
   * False while nobody reads from the face (a stream with no read pending), so the group's
   * redelivery timers need not keep the process alive for it. Absent means the face waits for as
   * long as it is attached (a subscribed Observable).
   */
  readonly waiting?: boolean;
}

/**
 * Opens a new member (a port) each time a face is subscribed, read or iterated.
 * Rule (docs/internals.md): an object with a method, not a closure, so optimized face code never
 * inlines one topic's closure and is not thrown away when that topic is collected.
 */
export interface PortOpener<P> {
  open(): P;
}

/**
 * Fast paths the memory engine offers a face. Optional: every face works without them (over the
 * engine seam they are absent), and none may change what a subscriber sees.
 */
export interface PortFastPaths<T> {
  /**
   * For `messages()`: the face's subscriber, to which the port may hand a just-published delivery
   * directly while the face is idle (caught up, window open). `null` detaches (the face holds back
   * a redelivery that must go first).
   */
  attachDeliveries?(sink: { next(d: Delivery<T>): void; readonly closed: boolean } | null): void;
  /**
   * For `values()`: hands out and settles values while `sink` is open, allocating no delivery;
   * true when it stopped only because nothing is ready and the topic is open.
   */
  drainValues?(sink: { next(value: T): void; readonly closed: boolean }): boolean;
}

/**
 * The one port every consuming face (recv and iteration, Observables, streams, ix, channel) is
 * written against. The memory engine's consumer implements it directly; over the engine seam,
 * `PortConsumer` implements it on a `MemberPort` (src/engine.ts), turning the face's demand into
 * the member's `desiredSize`.
 *
 * The contract:
 * - **Poll**: `tryRecv()` never waits. It returns a delivery the port holds now, within the
 *   prefetch window (never more than `prefetch` unsettled), or `undefined`.
 * - **Ready**: `onReady.ready()` is called, synchronously and possibly re-entrantly, when a
 *   `tryRecv` may succeed now, or when the port became `done`. A face polls until `undefined`
 *   and then waits for the next call.
 * - **Demand**: attaching `onReady` (or iterating) says the face wants up to `prefetch`; otherwise
 *   it wants only what pending `recv` calls ask for. The listener's `hungry` says when it buffers.
 * - **Settle**: through each Delivery (`ack`/`nack`/`term`/`inProgress`), never the port.
 * - **Close**: `close()` leaves the group and returns every unsettled delivery; `unsubscribe`
 *   leaves as a push face does. After either, `tryRecv` returns `undefined` and `done` is true.
 * - **End**: `done` is true once closed, or once the topic is closed and the group drained;
 *   `aborted`/`abortReason` when an AbortSignal closed it.
 */
export interface ConsumerPort<T> extends PortFastPaths<T> {
  tryRecv(): Delivery<T> | undefined;
  onReady: ReadyListener | null;
  readonly done: boolean;
  readonly aborted: boolean;
  readonly abortReason: unknown;
  close(): void;
  /**
   * Leaves the group as a push face whose subscriber unsubscribed: the deliveries it handed
   * downstream stay held, settleable until their ack timeout (an RxJS one-shot such as
   * `firstValueFrom` or `take(n)` unsubscribes before its subscriber settles), while `unseen`,
   * taken but never handed downstream, returns at once.
   */
  unsubscribe(unseen: Delivery<T> | undefined): void;
  /** Counts messages returned to the group (nack, timeout, close): `messages()` uses it to tell a redelivery it caused itself. */
  readonly returns: number;
  /** False when a `tryRecv` now would surely find nothing (a cheap hint; true may still find nothing). */
  readonly more: boolean;
  /** Runs `work` soon, on the topic's scheduler (a fresh macrotask on the default one). */
  defer(work: () => void): void;
}
