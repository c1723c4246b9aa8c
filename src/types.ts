/**
 * Public interfaces of ringbus. Implementations live in `src/internal/` and are created
 * through factories ({@link createBus}, {@link channel}).
 *
 * @module
 */
// The class alone: ix's index also declares DOM-stream methods whose types need the DOM lib.
import type { AsyncIterableX } from 'ix/asynciterable/asynciterablex';
import type { CodecFor, Compression } from './codec/types.js';
import type { Headers } from './headers.js';
import type { Storage, StoreStats } from './storage.js';
import type { Observable, SchedulerLike } from 'rxjs';

declare global {
  /**
   * The options of `ReadableStream.pipeTo`, which the DOM lib declares. ix's types name it; this
   * empty declaration lets a program compiled without the DOM lib (`lib: ["ES2022"]`,
   * `types: ["node"]`) check them, and merges with the DOM lib's where that is loaded.
   */
  interface StreamPipeOptions {}
}

export type { Headers };

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

/**
 * One member of a group, pulling deliveries. Also `AsyncIterable<Delivery<T>>`; breaking out of
 * a `for await` closes it and returns what it holds unsettled.
 *
 * A closed consumer (by `close()`, its `signal`, `deleteGroup`, `bus.deleteTopic`, or its topic
 * closing and draining) is finished, not broken — one rule, as a drained stream: reads answer
 * "nothing more" (`recv`/`recvTimeout` resolve `undefined`, `recvBatch` resolves `[]`, `tryRecv`
 * returns `undefined`, iteration ends) and `commit`/`seek` do nothing and return `false`, as
 * settling a stale delivery does. Only bad arguments are errors (`ConfigError`), and a consumer
 * closed by its `signal` rejects waits with the signal's reason.
 *
 * @example
 * ```ts
 * const c = topic.consumer({ group: 'billing' });
 * for await (const d of c) { bill(d.value); d.ack(); }
 * ```
 */
export interface Consumer<T> extends AsyncIterable<Delivery<T>>, Disposable {
  /** The group's name. */
  readonly group: string;
  /** True once closed (by `close()`, abort, deleting its group or topic). Reads then answer as drained. */
  readonly closed: boolean;
  /** Unsettled deliveries this consumer holds. */
  readonly held: number;
  /** Waits for the next delivery; `undefined` once the topic is closed and drained, or this consumer closed. */
  recv(options?: { signal?: AbortSignal }): Promise<Delivery<T> | undefined>;
  /** Never waits: the next delivery, or `undefined` when nothing is ready. */
  tryRecv(): Delivery<T> | undefined;
  /**
   * Like `recv`, but resolves `undefined` when nothing arrives within `ms` (a timeout is an
   * answer, not an error: no `TimeoutError`); `0` never waits. `undefined` also once closed and
   * drained. `ms` is a number ≥ 0 or `Infinity`; a bad one rejects with `ConfigError`.
   *
   * @example
   * ```ts
   * const d = await c.recvTimeout(500);
   * if (d === undefined) console.log('nothing within 500 ms (or the topic closed and drained)');
   * ```
   */
  recvTimeout(ms: number, options?: { signal?: AbortSignal }): Promise<Delivery<T> | undefined>;
  /**
   * Up to `max` deliveries: what is ready at the call is claimed at once; with nothing ready it
   * waits for the first, then takes what is ready then. Empty once closed and drained. A bad `max`
   * rejects with ConfigError (like every method that returns a promise, it never throws).
   */
  recvBatch(max: number, options?: { signal?: AbortSignal }): Promise<Delivery<T>[]>;
  /** Settles every offset below `offset` for the group. Returns false (and does nothing) once this consumer is closed. */
  commit(offset: number): boolean;
  /** Moves the group's next delivery to `offset` (clamped to what is retained). Returns false (and does nothing) once this consumer is closed. */
  seek(offset: number): boolean;
  /** Leaves the group, returning every unsettled delivery to it. Idempotent. */
  close(): void;
}

/**
 * A named, bounded, append-only log of messages with consumer groups.
 *
 * @example
 * ```ts
 * const orders = bus.topic<Order>('orders', { capacity: 4096, groups: ['billing'] });
 * await orders.publish({ id: 1 });
 * orders.values({ group: 'billing' }).subscribe(bill);
 * ```
 */
export interface Topic<T> {
  readonly name: string;
  readonly closed: boolean;
  /** The next offset to be published: `tryPublish` that returns true took exactly this offset. */
  readonly tail: number;
  /** The topic's overflow policy. */
  readonly overflow: OverflowPolicy;
  /**
   * Appends a message; waits for room under `overflow: 'block'` (a waiting publish resumes once
   * the ring has drained to half its capacity, or at once when a consumer waits for messages).
   * Resolves to its offset. Never throws: bad options reject with `ConfigError`, a closed topic
   * with `ClosedError`, a value the codec cannot encode with `CodecError`.
   */
  publish(value: T, options?: PublishOptions<T>): Promise<number>;
  /** Appends a message if there is room now; never waits. */
  tryPublish(value: T, options?: PublishOptions<T>): boolean;
  /**
   * Appends several messages in order; resolves to their offsets. A batch is refused whole when
   * any of it cannot be accepted up front (bad options or entries, a value the codec cannot
   * encode): the promise rejects and nothing was appended. With `{ entries: true }` each element
   * is a {@link BatchEntry}: a value with its own key, headers and TTL. Never throws (see `publish`).
   */
  publishBatch(values: Iterable<T>, options?: BatchOptions<T> & { readonly entries?: false }): Promise<number[]>;
  publishBatch(entries: Iterable<BatchEntry<T>>, options: BatchOptions<T> & { readonly entries: true }): Promise<number[]>;
  /** A new member of a group (or a private subscription). */
  consumer(options?: ConsumerOptions<T>): Consumer<T>;
  /**
   * Deliveries as an Observable: subscribe joins, unsubscribe leaves; `prefetch` is the
   * backpressure. What the subscriber was handed stays settleable after it unsubscribes, until
   * its ack timeout returns it, so the RxJS one-shots work: `firstValueFrom`, `take(n)`, `first()`.
   * Nothing not yet emitted is held.
   *
   * @example
   * ```ts
   * const d = await firstValueFrom(orders.messages({ group: 'billing' }));
   * d.ack(); // true: never redelivered (unsettled, it would come back after ackTimeoutMs)
   * ```
   */
  messages(options?: ConsumerOptions<T>): Observable<Delivery<T>>;
  /** Values as an Observable, each settled once the synchronous downstream returns. */
  values(options?: ConsumerOptions<T>): Observable<T>;
  /** Deliveries as a ReadableStream holding up to `prefetch` ahead of the reader; `cancel()` returns unsettled deliveries. */
  readable(options?: ConsumerOptions<T>): ReadableStream<Delivery<T>>;
  /** A WritableStream publishing each chunk; its backpressure is the ring's room. */
  writable(options?: WritableOptions): WritableStream<T>;
  /** Deliveries as an ix `AsyncIterableX`. */
  consume(options?: ConsumerOptions<T>): AsyncIterableX<Delivery<T>>;
  /** A snapshot of the topic's figures (`waitingPublishers` shows a `publish` blocked for room). */
  stats(): TopicStats;
  /** Removes a durable group (its members are closed). Returns false if there was none. */
  deleteGroup(name: string): boolean;
  /** Refuses further publishes; consumers drain what is retained, then complete. */
  close(): Promise<void>;
}

/**
 * A registry of topics sharing a scheduler.
 *
 * @example
 * ```ts
 * const bus = createBus();
 * const t = bus.topic<string>('greetings');
 * ```
 */
export interface Bus {
  /** True once {@link Bus.close} was called. */
  readonly closed: boolean;
  /**
   * Gets or creates a topic. Asking again with different options throws `ConfigError` showing
   * both values; asking without options returns the topic as it is. After `close()`, creating a
   * topic throws `ClosedError` (an existing one is still returned, closed).
   */
  topic<T>(name: string, options?: TopicOptions<T>): Topic<T>;
  /** True when a topic of that name exists. */
  has(name: string): boolean;
  /**
   * Resolves once the bus's engine is connected and every topic made so far with a storage has
   * opened it and recovered (at once for the memory engine without one); rejects with the cause
   * when it cannot connect, or with the `StorageError` of a topic whose store could not open.
   */
  ready(): Promise<void>;
  /** Closes and removes a topic. Resolves false if there was none; a bad `name` rejects with `ConfigError`. */
  deleteTopic(name: string): Promise<boolean>;
  /** A snapshot of every topic's figures. */
  stats(): BusStats;
  /** Stats every `ms` on the bus's scheduler; completes when the bus closes (at once if it is closed). */
  stats$(ms: number): Observable<BusStats>;
  /**
   * Closes every topic (publishing fails with `ClosedError`; consumers drain what is retained,
   * then complete), completes every `stats$`, and refuses new topics with `ClosedError`. Resolves
   * once every topic's storage is flushed and released; calling it again returns the same promise.
   *
   * @example
   * ```ts
   * await bus.close();
   * bus.topic('new'); // throws ClosedError
   * ```
   */
  close(): Promise<void>;
}
