/**
 * Public interfaces of ringbus: the bus, its topics and their consumers here; messages,
 * options and stats in `types/`, re-exported here. Implementations live in `src/internal/` and
 * are created through factories ({@link createBus}, {@link channel}).
 *
 * @module
 */
// The class alone: ix's index also declares DOM-stream methods whose types need the DOM lib.
import type { AsyncIterableX } from 'ix/asynciterable/asynciterablex';
import type { Observable } from 'rxjs';
import type { Headers } from './headers.js';
import type { Delivery, Message, NackOptions } from './types/message.js';
import type { BatchEntry, BatchOptions, ConsumerOptions, OverflowPolicy, PublishOptions, StartPosition, TopicOptions, WritableOptions } from './types/options.js';
import type { BusStats, GroupStats, LevelStats, TopicStats } from './types/stats.js';

declare global {
  /**
   * The options of `ReadableStream.pipeTo`, which the DOM lib declares. ix's types name it; this
   * empty declaration lets a program compiled without the DOM lib (`lib: ["ES2022"]`,
   * `types: ["node"]`) check them, and merges with the DOM lib's where that is loaded.
   */
  interface StreamPipeOptions {}
}

// the public types by concept (types/), re-exported here: users import them from one place
export type { Headers, Delivery, Message, NackOptions };
export type { BatchEntry, BatchOptions, ConsumerOptions, OverflowPolicy, PublishOptions, StartPosition, TopicOptions, WritableOptions };
export type { BusStats, GroupStats, LevelStats, TopicStats };

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
