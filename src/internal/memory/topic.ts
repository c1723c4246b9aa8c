// The class alone: ix's index also declares DOM-stream methods whose types need the DOM lib.
import type { AsyncIterableX } from 'ix/asynciterable/asynciterablex';
import type { Observable } from 'rxjs';
import type { Storage } from '../../storage.js';
import type { BatchEntry, BatchOptions, Consumer, ConsumerOptions, Delivery, GroupStats, Headers, PublishOptions, Topic, TopicStats, WritableOptions } from '../../types.js';
import { ConsumerImpl, memberSettings } from './group/consumer.js';
import { type DeadLetterTarget, deadLetterHeaders, deadLetterPayload, sendDeadLetter } from './dead-letter.js';
import { consumeFace, messagesFace, readableFace, valuesFace, writableFace } from '../faces/faces.js';
import { type DeadLetterReason, Group, type GroupHost } from './group/group.js';
import type { PortOpener } from '../faces/port.js';
import { Expiry } from './expiry.js';
import { appendLean } from './hot/append-lean.js';
import { append } from './log-append.js';
import { appendBatch, publishBatchChecked, publishChecked, publishSettled, tryPublishSlow } from './log-publish.js';
import { expireDue, expiryFired, refill, releasedSlow, Room } from './log-retention.js';
import { type LogWiring, LogState, NO_PUBLISH } from './log-state.js';
import { PublishQueue } from './publish-queue.js';
import { consumerOptions, type TopicSettings } from '../topic-options.js';
import { inspectCustom, inspectFields, type Inspect } from '../inspect.js';

/** Where dead letters go: the bus resolves a topic name. */
export interface DeadLetterRouter {
  deadLetterTopic(name: string): TopicImpl<unknown> | undefined;
}

/**
 * Opens a topic's storage (durable/open.ts, given by the bus): settles once what the store
 * recovered is applied, or the store could not open.
 */
export type OpenStorage = <T>(topic: TopicImpl<T>, storage: Storage) => Promise<void>;

/** The log's collaborators, calling back into its parts. */
const WIRING: LogWiring<unknown> = {
  expiry: (log) => new Expiry(log.scheduler, () => expiryFired(log)),
  queue: (log) => new PublishQueue(log, (value, s, wake) => append(log, value, s, wake)),
  room: (log) => new Room(log),
};

/**
 * The in-memory topic engine: the log's state ({@link LogState}) with the parts that act on it
 * wired (log-retention.ts, log-delays.ts, log-append.ts, log-publish.ts), its groups, consumers,
 * faces and lifecycle. Journaling and recovery are wrapped around it (src/internal/durable/).
 */
export class TopicImpl<T> extends LogState<T> implements Topic<T>, GroupHost<T> {
  readonly ackTimeoutMs: number;
  readonly maxDeliveries: number;
  deadLetterDropped = 0;
  /** @internal (durable/recover.ts) The groups by name. */
  readonly groups = new Map<string, Group<T>>();
  private privateSeq = 0;
  private readonly router: DeadLetterRouter | undefined;
  /** Settles once the store is open and recovery applied, or it could not open (see `openError`). */
  readonly ready: Promise<void>;
  /** @internal (durable/recover.ts) Where each group made while the store opens starts, once it is open. */
  readonly starts = new Map<Group<T>, () => number>();

  /** `open`: how the bus opens a storage (required when `settings` has one). */
  constructor(name: string, settings: TopicSettings, router?: DeadLetterRouter, open?: OpenStorage) {
    super(name, settings, WIRING as LogWiring<T>);
    this.ackTimeoutMs = settings.ackTimeoutMs;
    this.maxDeliveries = settings.maxDeliveries;
    this.router = router;
    this.ready = settings.storage === undefined ? Promise.resolve() : (open as OpenStorage)(this, settings.storage);
    for (const g of settings.groups) if (!this.groups.has(g)) this.addGroup(g, true, this.ring.head);
  }

  /** @internal (durable/open.ts) Groups made while the store opened are placed: runs what waited, and wakes the groups. */
  openEnded(): void {
    this.starts.clear();
    this.opened();
    this.wakeAll();
  }

  // ---- publishing (the first test inline, the rest in log-publish.ts) ---------------------

  /** `admitted` (internal, dead letters): resolve once in the ring, as `tryPublish` would, not once durable. */
  publish(value: T, options?: PublishOptions, admitted = false): Promise<number> {
    if (options !== undefined || this.checked) return publishChecked(this, value, options, admitted);
    if (this.closed) return Promise.reject(this.closedError());
    return publishSettled(this, value, NO_PUBLISH, admitted);
  }

  tryPublish(value: T, options?: PublishOptions): boolean {
    // `=== true`: one compare instead of V8's full truthiness test of the field (see ConsumerImpl.tryRecv)
    if (options === undefined && this.lean === true && this.queue.length === 0) {
      const off = appendLean(this, value);
      if (off >= 0) return true;
      if (off === -1) return false;
    }
    return tryPublishSlow(this, value, options);
  }

  publishBatch(values: Iterable<T> | Iterable<BatchEntry<T>>, options?: BatchOptions): Promise<number[]> {
    if (options !== undefined || this.checked || !Array.isArray(values)) return publishBatchChecked(this, values, options);
    if (this.closed) return Promise.reject(this.closedError());
    return appendBatch(this, values as T[], NO_PUBLISH, undefined, this.lean);
  }

  /** With a codec: turns a retained frame back into a value (each consumer gets its own). */
  get decode(): ((bytes: unknown) => T) | undefined {
    return this.codec?.decode;
  }

  // ---- for the groups (GroupHost) and the log -----------------------------------------------

  /** A group's committed offset moved up to `committed`: room may have been made. */
  released(committed: number): void {
    // one compare, inlined into every settle: with publishers waiting, the ring drains from full
    // to half with every settle landing here, and the slow path's checks on each would cost
    // every consume() and channel message
    if (committed >= this.releaseAt) releasedSlow(this);
  }

  refill(): boolean {
    return refill(this);
  }

  expireDue(): void {
    expireDue(this);
  }

  deadLetter(group: string, offset: number, reason: DeadLetterReason, detail: string | undefined, deliveries: number, value: T, key: string | undefined, headers: Headers): true | Promise<unknown> {
    const name = this.settings.deadLetter;
    const dlq = name === undefined ? undefined : (this.router?.deadLetterTopic(name) as DeadLetterTarget<T> | undefined);
    const h = deadLetterHeaders(headers, { topic: this.name, group, offset, reason, detail, deliveries });
    // a retained message of a codec topic is its frame: the dead letter carries the value
    const ring = this.ring;
    const frame = this.codec !== undefined && ring.isLive(offset) && ring.values[offset & ring.mask] === value;
    return sendDeadLetter(dlq, deadLetterPayload(value, frame, this.decode, reason), key, h, this.droppedDeadLetter);
  }

  private readonly droppedDeadLetter = (): void => {
    this.deadLetterDropped++;
  };

  dropPrivate(group: Group<T>): void {
    this.removeGroup(group);
  }

  // ---- groups and consumers -----------------------------------------------------------------

  /**
   * @internal (durable/recover.ts) `from`, `fallback`: where a group made while the store opens
   * starts once it is open (default: the first retained offset).
   */
  addGroup(name: string, durable: boolean, start: number, journal = true, from?: ConsumerOptions<T>['from'], fallback: 'earliest' | 'latest' = 'earliest'): Group<T> {
    const g = new Group<T>(this, name, durable, start);
    if (this.opening) this.starts.set(g, () => this.startOf(from, fallback));
    if (durable && journal) this.journal.group({ kind: 'create', group: name, offset: start });
    this.groups.set(name, g);
    this.groupList = [...this.groupList, g];
    this.committedLowered(g.committed);
    return g;
  }

  private removeGroup(g: Group<T>): void {
    if (this.groups.get(g.name) !== g) return;
    this.groups.delete(g.name);
    this.groupList = this.groupList.filter((x) => x !== g);
    if (g.durable) this.journal.group({ kind: 'delete', group: g.name });
    this.starts.delete(g);
    g.dispose();
    releasedSlow(this);
  }

  private startOf(from: ConsumerOptions<T>['from'], fallback: 'earliest' | 'latest'): number {
    const ring = this.ring;
    const f = from === undefined || from === 'committed' ? fallback : from;
    if (f === 'earliest') return ring.head;
    if (f === 'latest') return ring.tail;
    return Math.max(ring.head, Math.min(f.offset, ring.tail));
  }

  /** A new member (validated options). */
  open(options: ConsumerOptions<T>): ConsumerImpl<T> {
    const settings = memberSettings(options);
    let g: Group<T>;
    if (options.group !== undefined) {
      g = this.groups.get(options.group) ?? this.addGroup(options.group, true, this.startOf(options.from, 'earliest'), true, options.from);
    } else {
      g = this.addGroup(`~sub.${++this.privateSeq}`, false, this.startOf(options.from, 'latest'), true, options.from, 'latest');
    }
    const c = new ConsumerImpl<T>(g, settings, options.signal);
    g.join(c);
    if (options.signal?.aborted) c.abort(options.signal.reason);
    return c;
  }

  consumer(options?: ConsumerOptions<T>): Consumer<T> {
    return this.open(consumerOptions(options));
  }

  private port(options: ConsumerOptions<T> | undefined): MemberOpener<T> {
    return new MemberOpener(this, consumerOptions(options));
  }

  messages(options?: ConsumerOptions<T>): Observable<Delivery<T>> {
    return messagesFace(this.port(options));
  }

  values(options?: ConsumerOptions<T>): Observable<T> {
    return valuesFace(this.port(options));
  }

  readable(options?: ConsumerOptions<T>): ReadableStream<Delivery<T>> {
    return readableFace(this.port(options));
  }

  consume(options?: ConsumerOptions<T>): AsyncIterableX<Delivery<T>> {
    return consumeFace(this.port(options));
  }

  writable(options?: WritableOptions): WritableStream<T> {
    return writableFace(this, options);
  }

  deleteGroup(name: string): boolean {
    // while the store opens, the group may also be in what it recovers: deleted again once open
    if (this.opening) this.whenOpen(() => void this.deleteGroup(name));
    const g = this.groups.get(name);
    if (g === undefined || !g.durable) return false;
    // Its members take nothing more and its state is dropped before anything can call back into
    // it (removing it admits waiting publishers, whose wakes run other subscribers' callbacks): so
    // nothing a member held is handed to the next member or dead-lettered, and a delivery settled
    // meanwhile is stale. It is gone from the topic before any member closes: a member that
    // subscribes from a callback run by the closes joins a fresh group of this name.
    const members = g.members.slice();
    for (const m of members) m.closing();
    g.drop();
    this.removeGroup(g);
    for (const m of members) m.close();
    return true;
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.lean = false;
      this.leanRanked = false;
      this.queue.rejectAll(() => this.closedError());
      for (const g of this.groupList) g.wake();
      for (const g of this.groupList) g.idle(); // a closed topic keeps no timer that has nothing to do
    }
    return Promise.resolve();
  }

  /** Closes, closes every member, drops every message and deletes stored data (the topic was deleted). */
  destroy(): Promise<void> {
    void this.close();
    for (const g of this.groupList) {
      for (const m of g.members.slice()) m.close();
      g.dispose();
    }
    this.groups.clear();
    this.groupList = [];
    this.expiry.cancel();
    this.delays?.cancel();
    this.delayed = 0;
    this.ring.reset();
    return this.ready.then(() => this.journal.destroy());
  }

  /** Flushes and releases the storage (the bus is closing). */
  release(): Promise<void> {
    return this.persistent ? this.ready.then(() => this.journal.close()) : Promise.resolve();
  }

  /** `console.log(topic)`: its name, bounds and offsets, its groups, whether it is closed. */
  [inspectCustom](depth: number, options: object, inspect?: Inspect): string {
    const ring = this.ring;
    const fields = { name: this.name, capacity: this.capacity, size: ring.size, head: ring.head, tail: ring.tail, groups: this.groupList.map((g) => g.name), closed: this.closed };
    return inspectFields('Topic', fields, depth, options, inspect);
  }

  stats(): TopicStats {
    const groups: Record<string, GroupStats> = {};
    let subscribers = 0;
    for (const g of this.groupList) {
      groups[g.name] = g.stats();
      subscribers += g.members.length;
    }
    const ring = this.ring;
    const stats: TopicStats = {
      name: this.name,
      capacity: this.capacity,
      size: ring.size,
      head: ring.head,
      tail: ring.tail,
      published: this.published,
      rejected: this.rejected,
      dropped: this.dropped,
      expired: this.expired,
      agedOut: this.agedOut,
      waitingPublishers: this.queue.length,
      deadLetterDropped: this.deadLetterDropped,
      subscribers,
      bytes: this.codec === undefined ? 0 : this.codec.retainedBytes(ring),
      bytesPublished: this.codec === undefined ? 0 : this.codec.bytesPublished,
      closed: this.closed,
      groups,
    };
    const storage = this.journal.stats();
    const d = this.delays;
    const delays = d === undefined ? undefined : d.size === 0 ? { delayed: 0 } : { delayed: d.size, nextDueAt: d.nextDue };
    const priorities = this.levelStats();
    if (storage === undefined && delays === undefined && priorities === undefined) return stats;
    return { ...stats, ...(storage === undefined ? {} : { storage }), ...delays, ...(priorities === undefined ? {} : { priorities }) };
  }
}

/** Opens a member of a topic with options fixed at the face's creation (see `PortOpener`). */
class MemberOpener<T> implements PortOpener<ConsumerImpl<T>> {
  constructor(
    private readonly topic: TopicImpl<T>,
    private readonly options: ConsumerOptions<T>,
  ) {}

  open(): ConsumerImpl<T> {
    return this.topic.open(this.options);
  }
}
