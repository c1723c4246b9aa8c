/**
 * The storage seam. A topic always keeps its retained window in its in-memory ring (the read
 * cache every face is served from); a {@link Storage} makes that window and every durable
 * group's position survive a restart. Without one (the default), a topic lives in memory only.
 *
 * A topic opens its store asynchronously ({@link Storage.open}); the store hands back what it
 * recovered, its retained messages as a stream a store may read lazily (in chunks, from disk or
 * a database). The topic exists at once: until the store is open, publishes, commits and seeks
 * wait (in order), consumers join and receive once recovery is applied, and `bus.ready()`
 * resolves once every topic opened so far is, or rejects with why one could not open.
 *
 * Once open, the engine calls a {@link TopicStore} synchronously and never awaits it on the hot
 * path; `publish()` awaits {@link TopicStore.sync} so that it resolves only once the message is
 * as durable as the store promises. `ringbus/node`'s `fileStorage()` and `ringbus/browser`'s
 * `indexedDbStorage()` implement it.
 *
 * @module
 */
import type { Headers } from './headers.js';

/** One retained message as a store gives it back on recovery. */
export interface StoredMessage {
  readonly offset: number;
  /** The value as published (already encoded bytes when the topic has a `codec`). */
  readonly value: unknown;
  readonly key: string | undefined;
  readonly headers: Headers;
  readonly timestamp: number;
  /** Expiry time (ms, scheduler clock), `Infinity` for none. */
  readonly expires: number;
  /** Published with a delay: delivered to no group before this time (ms, scheduler clock). Absent for none. */
  readonly due?: number;
  /** Priority level, on a topic with `priorities`. Absent for none. */
  readonly priority?: number;
}

/** A durable group as a store gives it back on recovery. */
export interface StoredGroup {
  readonly name: string;
  /** Every offset below is settled. */
  readonly committed: number;
  /** Offsets at or above `committed` already settled (acked out of order). */
  readonly settled: readonly number[];
  /** Delivery counts of unsettled offsets that were delivered (for `maxDeliveries`). */
  readonly deliveries: ReadonlyMap<number, number>;
}

/** Damaged data a store moved aside on recovery: the topic dead-letters it with reason `corrupt`. */
export interface CorruptRecord {
  /** First offset the damaged bytes held. */
  readonly offset: number;
  /** One past the last offset they held. */
  readonly end: number;
  /** The damaged bytes, as found. */
  readonly bytes: Uint8Array;
  /** What was wrong (the `x-dead-letter-detail` header). */
  readonly detail: string;
}

/** What a store recovered when it was opened. */
export interface RecoveredTopic {
  /** Next offset to publish (offsets never go back, even when nothing is retained). */
  readonly tail: number;
  /**
   * Retained messages, in offset order: a list, or a stream the store reads as the topic takes
   * it. The topic applies them with the groups in one turn once the stream ends, so no consumer
   * sees a topic half recovered.
   */
  readonly messages: Iterable<StoredMessage> | AsyncIterable<StoredMessage>;
  readonly groups: readonly StoredGroup[];
  /** Damaged records found (and set aside) by this recovery, if any: dead-lettered with reason `corrupt`. */
  readonly corrupt?: readonly CorruptRecord[];
}

/** Group state changes a store journals. */
export type GroupEvent =
  | { readonly kind: 'create'; readonly group: string; readonly offset: number }
  | { readonly kind: 'delete'; readonly group: string }
  /** delivered for the `count`-th time */
  | { readonly kind: 'deliver'; readonly group: string; readonly offset: number; readonly count: number }
  /** settled (acked, terminated, dead-lettered, filtered, expired) */
  | { readonly kind: 'settle'; readonly group: string; readonly offset: number }
  | { readonly kind: 'commit'; readonly group: string; readonly offset: number }
  | { readonly kind: 'seek'; readonly group: string; readonly offset: number };

/**
 * A store's own figures for one topic, as `topic.stats().storage` shows them: named numbers,
 * flags and reports, each store documenting its own. `fileStorage`'s are `FileTopicStats`
 * (`ringbus/node`), typed in full by `storage.stats(topic)`.
 *
 * @example
 * ```ts
 * const figures = topic.stats().storage; // StoreStats | undefined (undefined without a storage)
 * if (typeof figures?.['bytes'] === 'number') console.log(`${figures['bytes']} bytes on disk`);
 * ```
 */
export interface StoreStats {
  readonly [figure: string]: unknown;
}

/** The durable side of one topic. */
export interface TopicStore {
  /** What the store held when the topic opened. */
  readonly recovered: RecoveredTopic;
  /** Appends a message (buffered; made durable by `sync`). */
  append(message: StoredMessage): void;
  /** Journals a group event (buffered; made durable by the next `sync` or flush). */
  group(event: GroupEvent): void;
  /** Messages below `head` are no longer retained: the store may delete them. */
  evicted(head: number): void;
  /** Resolves once everything appended so far is as durable as the store's mode promises. */
  sync(): Promise<void>;
  /** Flushes and releases the store. */
  close(): Promise<void>;
  /** Releases the store and deletes the topic's data (the topic was deleted). */
  destroy(): Promise<void>;
  /** The store's own figures (segments, bytes, syncs, what recovery did), for `topic.stats().storage`. */
  stats?(): StoreStats;
}

/** Opens the durable side of topics, by name. */
export interface Storage {
  /** A short description for stats and errors, e.g. `file:/var/lib/app/bus`. */
  readonly name: string;
  /**
   * Opens (recovering) the store of one topic; rejects with `StorageError` when it cannot (every
   * publish waiting on the topic rejects with it, and so does `bus.ready()`).
   */
  open(topic: string): Promise<TopicStore>;
  /**
   * Optional, for a store that can open in the calling turn (`fileStorage`, whose reads are
   * synchronous file system calls): the topic opens at once, so a durable topic is visible in
   * the same turn as a memory one (`tryPublish` right after `topic()`). Throws `StorageError`
   * when it cannot, and `topic()` throws it. Its `recovered.messages` must be an `Iterable`.
   */
  openSync?(topic: string): TopicStore & { readonly recovered: { readonly messages: Iterable<StoredMessage> } };
  /**
   * Throws `ConfigError` when this storage cannot keep a topic of this name; checked at `topic()`
   * for a `deadLetter` topic the bus will open later.
   */
  checkName?(topic: string): void;
}
