/**
 * Public types of `ringbus/operators`.
 *
 * @module
 */
import type { SchedulerLike } from 'rxjs';
import type { Delivery, Headers, NackOptions } from '../types.js';

/**
 * When and how `handle` retries a failed delivery. The delay is computed from
 * `delivery.deliveryCount` (1 on the first delivery) and applied with `nack({ delayMs })`,
 * which waits on the topic's scheduler.
 */
export interface RetryPolicy {
  /** Delay after the first failure, in ms. Number ≥ 0. Default `1000`. */
  readonly delayMs?: number;
  /** `'fixed'`: always `delayMs`; `'exponential'`: `delayMs * 2^(deliveryCount - 1)`. Default `'exponential'`. */
  readonly backoff?: 'fixed' | 'exponential';
  /** Upper bound of the delay, in ms. Finite number ≥ 0. Default `30000`. */
  readonly maxDelayMs?: number;
  /** Fraction of the delay taken off at random (`delay * (1 - jitter * random())`), 0 to 1. Default `0`. */
  readonly jitter?: number;
  /**
   * Give up (`term`, so the message is dead-lettered) when the delivery that failed was the
   * `maxAttempts`-th. Integer ≥ 1 or `Infinity`. Default `Infinity` (the topic's
   * `maxDeliveries` decides).
   */
  readonly maxAttempts?: number;
}

/** Options of `handle` and `handleStream`. */
export interface HandleOptions {
  /** Most calls of `fn` in flight at once. Integer 1 to 2^20. Default `1`. Set the source's `prefetch` ≥ this. */
  readonly concurrency?: number;
  /** Retry policy on failure. Default: none, so a failure is nacked with no delay and the topic's `maxDeliveries` decides. */
  readonly retry?: RetryPolicy;
  /**
   * (`handle` only) Most deliveries waiting for a free slot before the stream errors with a
   * `ConfigError`. A ringbus source never exceeds `prefetch - concurrency`. Integer ≥ 0. Default `1024`.
   */
  readonly maxBuffered?: number;
  /** Aborting it aborts the calls in flight and errors the stream with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** `fn` succeeded: the delivery was acked. */
export interface HandleSuccess<T, R> {
  readonly ok: true;
  readonly delivery: Delivery<T>;
  /** What `fn` returned (awaited). */
  readonly result: R;
}

/** `fn` threw or rejected: the delivery was nacked (to be retried) or termed. */
export interface HandleFailure<T> {
  readonly ok: false;
  readonly delivery: Delivery<T>;
  /** What `fn` threw or rejected with. */
  readonly error: unknown;
  /** `'nack'`: returned for redelivery after `retryDelayMs`; `'term'`: the retry policy gave up. */
  readonly action: 'nack' | 'term';
  /** The nack delay (`0` when termed or with no retry policy). */
  readonly retryDelayMs: number;
}

/** What `handle` emits for each delivery it settled. Narrow with `ok`. */
export type HandleOutcome<T, R> = HandleSuccess<T, R> | HandleFailure<T>;

/** The work `handle` runs: sync or async. `signal` aborts when the subscription (or stream) ends. */
export type Handler<T, R> = (value: T, delivery: Delivery<T>, signal: AbortSignal) => R | PromiseLike<R>;

/** Deliveries batched by `bufferMessages`, settled together or one by one. */
export interface DeliveryBatch<T> {
  /** The deliveries, in arrival order. */
  readonly deliveries: readonly Delivery<T>[];
  /** Their values, in the same order. */
  readonly values: readonly T[];
  /** `deliveries.length`. */
  readonly size: number;
  /** Acks every delivery; returns how many this call settled. */
  ackAll(): number;
  /** Nacks every delivery; returns how many this call settled. */
  nackAll(options?: NackOptions): number;
  /** Terms every delivery; returns how many this call settled. */
  termAll(reason?: string): number;
}

/** Options of `bufferMessages` and `bufferMessagesStream`. */
export interface BufferMessagesOptions {
  /** Runs the batch timer. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** Options of `expire` and `expireStream`. */
export interface ExpireOptions<T> {
  /** Tells the age: `now() - delivery.timestamp`. Use the topic's scheduler. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** Called with each delivery dropped (already acked) and its age in ms. A throw errors the stream. */
  readonly onExpired?: (delivery: Delivery<T>, ageMs: number) => void;
}

/** Options of `publishTo` and `publishToStream`. */
export interface PublishToOptions<T> {
  /** The key of each message: a string, or a function of the value. Default: none. */
  readonly key?: string | ((value: T) => string | undefined);
  /** The headers of each message: an object, or a function of the value. Default: none. */
  readonly headers?: Headers | ((value: T) => Headers | undefined);
  /** Per-message TTL in ms (the shorter of this and the topic's `ttlMs` wins). Default: the topic's. */
  readonly ttlMs?: number;
  /**
   * (`publishTo` only) Most values held while the topic has no room (`overflow: 'block'`)
   * before the stream errors with `PublishOverflowError`. Integer ≥ 0. Default `1024`.
   */
  readonly maxBuffered?: number;
}

/** Options of `deadLetterTo` and `deadLetterToStream`. */
export interface DeadLetterToOptions<T> {
  /** The `x-dead-letter-detail` header: a string, or a function of the delivery. Default: none. */
  readonly detail?: string | ((delivery: Delivery<T>) => string | undefined);
  /** (`deadLetterTo` only) As in {@link PublishToOptions.maxBuffered}. Default `1024`. */
  readonly maxBuffered?: number;
}

/** Options of `forwardTo` and `forwardToStream`. */
export interface ForwardToOptions<T, U = T> {
  /** The message to publish, from the delivery's value (synchronous; a throw nacks the delivery and errors the stream). Default: the value itself. */
  readonly map?: (value: T, delivery: Delivery<T>) => U;
  /** The key of each message: a string, or a function of the delivery. Default: the delivery's key. */
  readonly key?: string | ((delivery: Delivery<T>) => string | undefined);
  /** The headers of each message: an object, or a function of the delivery. Default: the delivery's headers. */
  readonly headers?: Headers | ((delivery: Delivery<T>) => Headers | undefined);
  /** Per-message TTL in ms (the shorter of this and the topic's `ttlMs` wins). Default: the topic's. */
  readonly ttlMs?: number;
  /** (`forwardTo` only) As in {@link PublishToOptions.maxBuffered}. Default `1024`. */
  readonly maxBuffered?: number;
}
