/**
 * A message and its delivery: what a consumer receives and settles.
 *
 * @module
 */
import type { Headers } from '../headers.js';

/** One message of a topic. */
export interface Message<T> {
  /** Position in the topic: 0, 1, 2, ... */
  readonly offset: number;
  /** The payload, passed by reference in memory. */
  readonly value: T;
  /** Optional key given at publish. */
  readonly key: string | undefined;
  /** String headers given at publish (a shared empty object when none). */
  readonly headers: Headers;
  /** Publish time in ms, from the topic's scheduler. */
  readonly timestamp: number;
}

/** Options of {@link Delivery.nack}. */
export interface NackOptions {
  /** Wait this long before the message may be redelivered. Default `0`. */
  readonly delayMs?: number;
}

/**
 * One hand-off of a message to one consumer. Settle it with {@link Delivery.ack},
 * {@link Delivery.nack} or {@link Delivery.term}; settling twice, or settling a stale
 * delivery, is a no-op. `using d = await c.recv()` nacks it at scope end if unsettled.
 *
 * @example
 * ```ts
 * const d = await consumer.recv();
 * if (d) { try { await work(d.value); d.ack(); } catch { d.nack({ delayMs: 1000 }); } }
 * ```
 */
export interface Delivery<T> extends Message<T>, Disposable {
  /** The topic's name. */
  readonly topic: string;
  /** The group's name (a generated name for a subscription without a group). */
  readonly group: string;
  /** How many times this message has been delivered to this group, this one included (1 on first delivery). */
  readonly deliveryCount: number;
  /** True when `deliveryCount > 1`. */
  readonly redelivered: boolean;
  /** True once this delivery was settled, or became stale. */
  readonly settled: boolean;
  /** Settles the message: the group will not deliver it again. Returns false when it was already settled or stale. */
  ack(): boolean;
  /** Returns the message for redelivery, after `delayMs`. Returns false when it was already settled or stale. */
  nack(options?: NackOptions): boolean;
  /** Settles the message as failed: it is dead-lettered (if the topic has a `deadLetter`) and never redelivered. */
  term(reason?: string): boolean;
  /** Restarts the ack timer. Returns false when settled or stale. */
  inProgress(): boolean;
}
