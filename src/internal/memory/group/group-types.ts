/**
 * The vocabulary a consumer group shares with its members and its topic: slot states, dead-letter
 * reasons, and what a group may read and call on a member ({@link GroupMember}). It imports nothing
 * of the group or the consumer, so the group can be read (and type-checked) without the consumer
 * and the consumer without the group's internals.
 */
import type { Delivery } from '../../../types.js';

/** Why a message was dead-lettered (the `x-dead-letter-reason` header). */
export type DeadLetterReason = 'max-deliveries' | 'terminated' | 'decode-error' | 'corrupt';

/** Slot states of a group, valid only where `tag[slot] === offset`; any other slot is FRESH. */
export const FRESH = 0;
export const INFLIGHT = 1;
export const SETTLED = 2;
export const WAITING = 3; // returned, waiting for redelivery (in `redeliver` or `delayed`), or passed while delayed (published with a delay, not due yet)
export const DEAD = 4; // being published to the dead-letter topic
export const CLAIMED = 5; // taken by a consumer, being handed out (transient, synchronous)

/** Something that can tell a consumer what a value sink wants. */
export interface ValueSink<T> {
  next(value: T): void;
  readonly closed: boolean;
}

/**
 * A member of a group as the group, and its topic through `Group.members`, see it: everything
 * they read, write or call on one (the consumer, `ConsumerImpl`, documents each).
 */
export interface GroupMember<T> {
  /** Deliveries it holds unsettled; the group counts them as it hands out and settles. */
  held: number;
  readonly prefetch: number;
  readonly closed: boolean;
  /** A plain value sink (`values()`) the group may push to directly. */
  readonly sink: ValueSink<T> | null;
  /** A `messages()` subscriber the group may hand fresh deliveries to directly. */
  readonly dsink: ValueSink<Delivery<T>> | null;
  /** True while handing values to a sink: a wake meanwhile sets `again`. */
  busy: boolean;
  again: boolean;
  /** Someone waits on it: a pending `recv`, or an attached face that waits. */
  readonly waited: boolean;
  /** Waiting for a message it has room for. */
  readonly hungry: boolean;
  /** A wake would do something. */
  wakeable(): boolean;
  /** The group may have something for it (or has drained). */
  onAvailable(): void;
  /** One of its deliveries was settled or returned. */
  onSettled(): void;
  /** A direct push's sink threw: the face learns it through its next pull. */
  fail(e: unknown): void;
  /** A `messages()` hand-off's sink threw while it was busy with it. */
  handOffFailed(e: unknown): void;
  /** The first half of `close`: takes nothing more and is handed nothing more. */
  closing(): void;
  close(): void;
}

/** Wakes a group's members that can take a delivery (`Members`): what settling and the timers call when a message becomes ready. */
export interface Waker {
  wake(): void;
}
