/**
 * Options of topics, publishes, batches, consumers and writable streams.
 *
 * @module
 */
import type { SchedulerLike } from 'rxjs';
import type { CodecFor, Compression } from '../codec/types.js';
import type { Headers } from '../headers.js';
import type { Storage } from '../storage.js';
import type { Message } from './message.js';

/** Where a consumer starts: oldest retained, next published, an offset, or the group's committed offset. */
export type StartPosition = 'earliest' | 'latest' | 'committed' | { readonly offset: number };

/** What a topic does when it is full and its oldest message is still needed by a group. */
export type OverflowPolicy = 'block' | 'drop-oldest' | 'reject' | 'grow';

/** Options of {@link Bus.topic}. Every field is validated synchronously. */
export interface TopicOptions<T = any> {
  /** Most messages retained. Integer 1 to 2^30. Default `1024`. */
  readonly capacity?: number;
  /** What to do when full. Default `'block'`. */
  readonly overflow?: OverflowPolicy;
  /** With `overflow: 'grow'`: the factor capacity grows by. Number > 1 and ≤ 16. Default `2`. */
  readonly growthFactor?: number;
  /** With `overflow: 'grow'`: the largest capacity. Integer ≥ `capacity`, ≤ 2^30. Default `capacity * 16`. */
  readonly maxCapacity?: number;
  /** With `overflow: 'grow'`: shrink back when use falls under this fraction. Number in (0, 1). Default `0.25`. */
  readonly shrinkThreshold?: number;
  /** Messages expire this long after publish. Positive number or `Infinity`. Default `Infinity`. */
  readonly ttlMs?: number;
  /**
   * Durable groups created with the topic, starting at the earliest offset. Default `[]`. Each
   * gates retention at once, member or not: with nobody consuming a named group, publishes past
   * `capacity` wait (under `block`) until one of its members settles — see
   * `stats().waitingPublishers`. Name only the groups that will consume.
   */
  readonly groups?: readonly string[];
  /** A delivery not settled within this time is redelivered. Positive number or `Infinity`. Default `30000`. */
  readonly ackTimeoutMs?: number;
  /** A message delivered this many times without an ack is dead-lettered. Integer ≥ 1 or `Infinity`. Default `Infinity`. */
  readonly maxDeliveries?: number;
  /** Name of the topic (on the same bus) that receives dead letters. Default: none (dead letters are dropped and counted). */
  readonly deadLetter?: string;
  /** Every timer of the topic goes through this scheduler. Default: the bus's scheduler (`asyncScheduler`). */
  readonly scheduler?: SchedulerLike;
  /**
   * Encode values at publish and decode them for each consumer (see `ringbus/codec`). Default:
   * none — values are passed by reference, zero copy. With a codec, a later mutation of the
   * publisher's object cannot change the message, and each consumer gets its own copy.
   */
  readonly codec?: CodecFor<T>;
  /** With `codec`: compress payloads (e.g. `gzip` from `ringbus/codec`). Default: none. */
  readonly compression?: Compression;
  /**
   * Makes the topic durable (e.g. `fileStorage(dir)` from `ringbus/node`): retained messages and
   * durable groups' positions survive a restart; `publish()` resolves once the message is as
   * durable as the storage promises. Default: the bus's storage, or none (memory only).
   */
  readonly storage?: Storage;
  /**
   * Priority levels, integer 1 to 255 (levels `0` to `priorities - 1`, higher first). Within a
   * group, redeliveries go first, then first deliveries highest level first, offset order within
   * a level. Offsets, retention, commit and lag keep their meaning. Default `1` (no priorities).
   */
  readonly priorities?: number;
  /**
   * Fair queuing with `priorities`: after this many deliveries in a row from one level (counted
   * since a lower level last got one) while a lower level waits, the highest lower waiting level
   * gets one. Integer ≥ 1 or `Infinity` (strict priority). Default `Infinity`.
   */
  readonly maxConsecutive?: number;
  /**
   * `'key'`: within a group, no message is handed out while an earlier message with the same key
   * is unsettled in that group (held, or waiting for redelivery); different keys go out in
   * parallel to competing members; messages without a key are unordered. A nacked or timed-out
   * message goes out again before later messages of its key; a dead-lettered or terminated one
   * releases its key. Default `'none'`.
   */
  readonly ordering?: 'none' | 'key';
}

/** Options of {@link Topic.publish}. */
export interface PublishOptions<T = any> {
  /** Key of the message. */
  readonly key?: string;
  /** String headers of the message. */
  readonly headers?: Headers;
  /** Expire this message this long after publish (the shorter of this and the topic's `ttlMs` wins). */
  readonly ttlMs?: number;
  /** Abort a publish that waits for room. */
  readonly signal?: AbortSignal;
  /** On a topic with a `codec`: encode this message with another codec (the frame says which). */
  readonly codec?: CodecFor<T>;
  /** On a topic with a `codec`: compress this message with another compression. */
  readonly compression?: Compression;
  /**
   * Deliver this message no sooner than this many ms after it is published: it takes its offset
   * now and is retained, but goes to no group before its time; then it goes out as a first
   * delivery, in offset order among what is due. TTL still counts from publish.
   */
  readonly delayMs?: number;
  /** Deliver this message no sooner than this time (ms on the topic scheduler's clock: `Date.now()` by default). Give this or `delayMs`, not both. */
  readonly deliverAt?: number;
  /** Priority level, an integer from 0 to the topic's `priorities - 1`. Default: the middle level, `Math.floor((priorities - 1) / 2)`. */
  readonly priority?: number;
}

/** Options of {@link Topic.publishBatch}: those of `publish`, for every message of the batch. */
export interface BatchOptions<T = any> extends PublishOptions<T> {
  /**
   * `true`: the batch is of {@link BatchEntry} objects, each a value with its own `key`,
   * `headers` and `ttlMs` (which replace the batch's own). Default `false`: the batch is of values.
   */
  readonly entries?: boolean;
}

/** One message of `publishBatch(entries, { entries: true })`. */
export interface BatchEntry<T> {
  readonly value: T;
  /** Key of this message (replaces the batch's `key`). */
  readonly key?: string;
  /** Headers of this message (replace the batch's `headers`). */
  readonly headers?: Headers;
  /** TTL of this message (replaces the batch's `ttlMs`; the topic's `ttlMs` still caps it). */
  readonly ttlMs?: number;
  /** Delay of this message (replaces the batch's `delayMs`/`deliverAt`). */
  readonly delayMs?: number;
  /** Due time of this message (replaces the batch's `delayMs`/`deliverAt`). */
  readonly deliverAt?: number;
  /** Priority level of this message (replaces the batch's `priority`). */
  readonly priority?: number;
}

/** Options of every consumer face ({@link Topic.consumer}, {@link Topic.messages}, ...). */
export interface ConsumerOptions<T> {
  /** Durable group to join (created at `from` if new). Default: a private, non-durable group of one. */
  readonly group?: string;
  /** Where a new group (or a private subscription) starts. Default `'earliest'` for a new group, `'latest'` without a group. */
  readonly from?: StartPosition;
  /** Most unsettled deliveries this consumer holds. Integer 1 to 2^20. Default `256`. */
  readonly prefetch?: number;
  /** Source-side filter: a message it rejects is settled for the group without being delivered. */
  readonly filter?: (message: Message<T>) => boolean;
  /** `'auto'` settles every delivery when it is handed out (at-most-once). Default `'manual'`. */
  readonly ack?: 'manual' | 'auto';
  /** Closes the consumer (returning its unsettled deliveries) when aborted. */
  readonly signal?: AbortSignal;
  /**
   * Also return a delivery that is garbage-collected unsettled (FinalizationRegistry, best
   * effort; the ack timeout remains the guarantee). Costs a registration per delivery, several
   * times the rest of the delivery path, so it is off unless asked for. Default `false`.
   */
  readonly returnOnGc?: boolean;
}

/** Options of {@link Topic.writable}. */
export interface WritableOptions {
  /** Key given to every message written. */
  readonly key?: string;
  /** Headers given to every message written. */
  readonly headers?: Headers;
  /** Chunks queued in the stream before `writer.ready` waits, on top of the ring's room. Default `1`. */
  readonly highWaterMark?: number;
}
