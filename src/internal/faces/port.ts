import type { Delivery } from '../../types.js';

/** Told (through `ready()`) when a pull may succeed now, or the port is done. */
export interface ReadyListener {
  ready(): void;
  /**
   * Optional: false while the face still buffers deliveries its reader has not taken (a stream's
   * queue), so it is not starving even when the group has nothing left. Absent means true.
   */
  readonly hungry?: boolean;
  /**
   * Optional: false while nobody reads from the face (a stream with no read pending), so the
   * group's redelivery timers need not keep the process alive for it. Absent means the face waits
   * for as long as it is attached (a subscribed Observable).
   */
  readonly waiting?: boolean;
}

/**
 * Opens a new member (a port) each time a face is subscribed, read or iterated. An object with a
 * method rather than a closure: a face's optimized code that inlined one topic's closure would be
 * thrown away when that topic is collected ("weak objects"), a method on a shared prototype not.
 */
export interface PortOpener<P> {
  open(): P;
}

/**
 * The one narrow port every face (Observable, ReadableStream, ix, channel) is built on.
 * An engine (in-memory ring, durable log, NATS JetStream pull consumer, Redis XREADGROUP)
 * implements it once and gets every face.
 *
 * - `tryRecv()` pulls one delivery if one is ready and the prefetch window allows (never waits).
 * - `onReady.ready()` is called (synchronously, possibly re-entrantly) when a pull may succeed now,
 *   or when the port became `done`.
 * - Settlement goes through the Delivery (`ack`/`nack`/`term`/`inProgress`).
 * - `close()` leaves the group and returns every unsettled delivery.
 * - `done` is true once closed, or once the topic is closed and the group drained.
 * - `aborted`/`abortReason`: the port was closed by an AbortSignal.
 */
export interface ConsumerPort<T> {
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
  /** Counts messages returned to the group (nack, timeout, close): a push face uses it to tell a redelivery it caused itself. */
  readonly returns: number;
  /** False when a `tryRecv` now would surely find nothing in the group (a cheap hint; true may still find nothing). */
  readonly more: boolean;
  /** Runs `work` soon, on the topic's scheduler (a fresh macrotask on the default one). */
  defer(work: () => void): void;
  /**
   * Optional fast path for `messages()`: the face's subscriber, to which the port may hand a
   * just-published delivery directly while the face is idle (caught up, window open). `null`
   * detaches (the face holds back a redelivery that must go first).
   */
  attachDeliveries?(sink: { next(d: Delivery<T>): void; readonly closed: boolean } | null): void;
  /**
   * Optional fast path for `values()`: hands out and settles values while `sink` is open; true
   * when it stopped only because nothing is ready and the topic is open. See `ConsumerImpl.drainValues`.
   */
  drainValues?(sink: { next(value: T): void; readonly closed: boolean }): boolean;
}
