/**
 * The figures of `stats()`: per group, per topic, per priority level, per bus.
 *
 * @module
 */
import type { StoreStats } from '../storage.js';

/** Per-group figures in {@link TopicStats}. */
export interface GroupStats {
  /** Connected members. */
  readonly members: number;
  /** Next offset never delivered to this group. */
  readonly next: number;
  /** Every offset below this one is settled for the group. */
  readonly committed: number;
  /** Messages delivered and not yet settled (held, or waiting for redelivery). */
  readonly pending: number;
  /** `tail - committed`. */
  readonly lag: number;
  /** Deliveries handed out, redeliveries included. */
  readonly delivered: number;
  readonly acked: number;
  readonly nacked: number;
  /** Deliveries after the first of a message. */
  readonly redelivered: number;
  readonly deadLettered: number;
  /** Messages the group never got: evicted by `drop-oldest` or skipped by `seek`. */
  readonly missed: number;
  /** Messages settled because a consumer's `filter` rejected them. */
  readonly filtered: number;
  /** Messages that expired (TTL) before this group settled them. */
  readonly expired: number;
  /** True for named groups; false for a subscription without a group. */
  readonly durable: boolean;
}

/** A snapshot of a topic's figures. */
export interface TopicStats {
  readonly name: string;
  readonly capacity: number;
  /** Messages retained now. */
  readonly size: number;
  /** Oldest retained offset. */
  readonly head: number;
  /** Next offset to be published. */
  readonly tail: number;
  readonly published: number;
  /** Publishes refused (`reject`, or `grow` at `maxCapacity`). */
  readonly rejected: number;
  /** Messages evicted by `drop-oldest` while a group still needed them. */
  readonly dropped: number;
  /**
   * Messages removed by TTL, all of them: those some group had not settled yet (each such group
   * counts it in its own `expired`) and those only kept for replay ({@link TopicStats.agedOut}).
   */
  readonly expired: number;
  /**
   * The part of `expired` that no group needed any more: every group's committed offset was past
   * it (or the topic had no group), so it was only kept for replay. `expired - agedOut` expired
   * while some group still had it to settle.
   */
  readonly agedOut: number;
  /**
   * `publish`/`publishBatch` calls waiting for room (`overflow: 'block'`). Room is made only as
   * every group settles; a named group with no member yet (e.g. from `groups`) settles nothing,
   * so publishers past `capacity` wait here until one joins.
   */
  readonly waitingPublishers: number;
  /** Dead letters with no dead-letter topic, or that the dead-letter topic refused. */
  readonly deadLetterDropped: number;
  /** Live consumers of every group. */
  readonly subscribers: number;
  /** With a codec: encoded bytes retained now (0 without a codec). */
  readonly bytes: number;
  /** With a codec: encoded bytes published in all (0 without a codec). */
  readonly bytesPublished: number;
  readonly closed: boolean;
  /**
   * Every group of the topic by name, named and subscription groups alike. A name that is not a
   * group has no entry: `stats.groups['nope']` is `undefined` (with `noUncheckedIndexedAccess`,
   * TypeScript says so).
   */
  readonly groups: Readonly<Record<string, GroupStats>>;
  /** With a storage: its figures for this topic (for `fileStorage`: segments, bytes, syncs, the recovery report); absent without one. */
  readonly storage?: StoreStats;
  /**
   * Messages published with `delayMs`/`deliverAt` that are not due yet (they are retained and
   * count in `size`). Present once the topic has had a delayed message.
   */
  readonly delayed?: number;
  /** When the next delayed message comes due (scheduler time); absent when none waits. */
  readonly nextDueAt?: number;
  /**
   * With `priorities` > 1, by level (index = level): messages of that level retained now, published
   * in all, and handed out as first deliveries (every group's). Absent without priorities.
   */
  readonly priorities?: readonly LevelStats[];
}

/** One priority level's figures ({@link TopicStats.priorities}). */
export interface LevelStats {
  readonly size: number;
  readonly published: number;
  readonly delivered: number;
}

/** A snapshot of a bus's figures. */
export interface BusStats {
  readonly timestamp: number;
  readonly topics: Readonly<Record<string, TopicStats>>;
}
