/**
 * The engine seam: what an engine implements so that one `Topic`, `Consumer` and every face
 * (recv, iteration, Observables, streams, ix) run over it. An engine opens topic backends
 * asynchronously; a topic backend publishes batches, opens members, commits and seeks; a member
 * port says how many deliveries its face wants ({@link MemberPort.desiredSize}), hands over what
 * it already holds locally ({@link MemberPort.poll}, synchronous) and calls
 * {@link MemberPort.onReady} when more may be polled.
 *
 * `createBus({ engine })` takes an engine: the memory engine (`memoryEngine()`) or the
 * MessagePort engine (`portEngine`). `createBus()` without one builds the memory engine directly,
 * with its in-process fast paths (see docs/engines.md).
 *
 * @module
 */
import type { Headers, StartPosition, TopicOptions, TopicStats } from './types.js';

/**
 * Options an engine may lack, each refused with a `ConfigError` naming the engine and the option
 * when asked for: topic options (`codec`, `compression`, `storage`, `scheduler`, `overflow:grow`,
 * `overflow:drop-oldest`), consumer options (`returnOnGc`) and publish options (`ttlMs`, `codec`,
 * `delayMs`, `deliverAt`, `priority`) and topic options (`priorities`, `maxConsecutive`, `ordering`).
 */
export type EngineOption = string;

/** Topic options an engine receives: every one is plain data (structured-clonable). */
export type EngineTopicOptions = Pick<
  TopicOptions,
  'capacity' | 'overflow' | 'growthFactor' | 'maxCapacity' | 'shrinkThreshold' | 'ttlMs' | 'groups' | 'ackTimeoutMs' | 'maxDeliveries' | 'deadLetter' | 'priorities' | 'maxConsecutive' | 'ordering'
>;

/** One message to publish: plain data, the value as given. */
export interface PublishEntry<T = unknown> {
  readonly value: T;
  readonly key?: string;
  readonly headers?: Headers;
  /** Per-message TTL in ms (absent: the topic's). */
  readonly ttlMs?: number;
  /** Deliver no sooner than this many ms after publish (absent: at once). An engine without delays lacks `delayMs`. */
  readonly delayMs?: number;
  /** Deliver no sooner than this time (ms on the engine's clock). An engine without delays lacks `deliverAt`. */
  readonly deliverAt?: number;
  /** Priority level (absent: the topic's middle level). An engine without priorities lacks `priority` (and the topic option `priorities`). */
  readonly priority?: number;
}

/** Options of {@link TopicBackend.openMember}: plain data (a `filter` and a `signal` stay with the face). */
export interface MemberOptions {
  readonly group?: string;
  readonly from?: StartPosition;
  /** Most unsettled deliveries the member holds, those buffered locally included. */
  readonly prefetch: number;
  readonly ack?: 'manual' | 'auto';
}

/** How a delivery is settled. */
export type Settlement =
  | { readonly kind: 'ack' }
  | { readonly kind: 'nack'; readonly delayMs: number }
  | { readonly kind: 'term'; readonly reason?: string }
  | { readonly kind: 'inProgress' };

/** One delivery as a member port hands it to its face. */
export interface DeliveryRecord<T = unknown> {
  readonly offset: number;
  readonly value: T;
  readonly key: string | undefined;
  readonly headers: Headers;
  readonly timestamp: number;
  readonly deliveryCount: number;
  /** True when the engine settled it already (a member with `ack: 'auto'`). */
  readonly settled: boolean;
  /**
   * Settles the delivery with the engine. Answers from local state: the call goes to the engine
   * in the background (a remote engine batches such calls per turn).
   */
  settle(how: Settlement): void;
}

/** Told when a poll may succeed now, or the member became done. */
export interface MemberListener {
  ready(): void;
}

/**
 * One member of a group, as an engine serves it. The face states demand; the engine fills a local
 * buffer up to it; the face polls the buffer synchronously.
 */
export interface MemberPort<T = unknown> {
  /** The group's name (a generated one for a subscription without a group), once known. */
  readonly group: string;
  /**
   * Demand: how many more deliveries the face wants, beyond what {@link MemberPort.poll} can
   * already return. The face sets it; the port clamps it so that what is buffered, in flight and
   * held unsettled never exceeds `prefetch`. Each delivery that arrives answers one unit of it.
   */
  desiredSize: number;
  /** Never waits: a delivery the port already holds locally, or `undefined`. */
  poll(): DeliveryRecord<T> | undefined;
  /** Called when a poll may succeed now, or `done` became true. */
  onReady: MemberListener | null;
  /** True once closed, or once the topic is closed and the group drained, and nothing is buffered. */
  readonly done: boolean;
  /** Deliveries handed out by `poll` and not settled yet. */
  readonly held: number;
  /** Why the member failed (its topic could not be opened, the connection was lost); `done` is true then. */
  readonly error?: unknown;
  /** Settles every offset below `offset` for the group. */
  commit(offset: number): Promise<boolean>;
  /** Moves the group's next delivery to `offset`. */
  seek(offset: number): Promise<boolean>;
  /** Leaves the group; every unsettled delivery (buffered or held) returns to it. Resolves once the engine has done so. */
  close(): Promise<void>;
  /**
   * Leaves the group as a push face whose subscriber unsubscribed: what is buffered returns at
   * once; what `poll` handed out stays settleable until settled or timed out.
   */
  leave(): void;
}

/** A topic as an engine holds it. */
export interface TopicBackend {
  /**
   * Appends entries in order; resolves to their offsets. Ordered, not atomic, as `publishBatch`:
   * a `signal` that aborts while entries wait for room withdraws those, and the prefix already
   * appended stays.
   */
  publish(entries: readonly PublishEntry[], signal?: AbortSignal): Promise<number[]>;
  /** A new member of a group (or a private subscription). */
  openMember<T>(options: MemberOptions): MemberPort<T>;
  /** Removes a durable group (its members are closed). */
  deleteGroup(name: string): Promise<boolean>;
  /**
   * A snapshot of the topic's figures, kept current by the backend (a remote one refreshes it in
   * the background after each call and whenever it is read).
   */
  stats(): TopicStats;
  /** Refuses further publishes; members drain, then are done. */
  close(): Promise<void>;
  /** Closes the topic and removes it from the engine. */
  destroy(): Promise<void>;
}

/** Which options an engine lacks, each with the reason it gives when refusing it. */
export interface EngineCapabilities {
  readonly lacks: Readonly<Record<EngineOption, string>>;
}

/**
 * What holds a bus's topics. `createBus({ engine })` connects it (`bus.ready()` resolves once
 * {@link Engine.connect} has) and opens each topic through {@link Engine.openTopic}.
 */
export interface Engine {
  /** A short name, used in errors: `'memory'`, `'port'`. */
  readonly name: string;
  /** What the engine lacks; asking for it is refused with a `ConfigError` naming the engine and option. */
  readonly capabilities: EngineCapabilities;
  /** Resolves once the engine is connected; rejects with the cause. */
  connect(): Promise<void>;
  /**
   * Opens (creating if new) a topic. Without `options`, an existing topic is opened as it is;
   * with them, rejects with `ConfigError` when they differ from the existing topic's.
   */
  openTopic(name: string, options?: EngineTopicOptions): Promise<TopicBackend>;
  /** Closes the connection (topics opened through it are closed first by the bus). */
  close(): Promise<void>;
}
