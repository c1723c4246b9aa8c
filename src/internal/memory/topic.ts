// The class alone: ix's index also declares DOM-stream methods whose types need the DOM lib.
import type { AsyncIterableX } from 'ix/asynciterable/asynciterablex';
import type { Observable } from 'rxjs';
import type { StorageError } from '../../errors.js';
import type { RecoveredTopic, StoredMessage, TopicStore } from '../../storage.js';
import type { Consumer, ConsumerOptions, Delivery, GroupStats, Headers, Topic, TopicStats, WritableOptions } from '../../types.js';
import { ConsumerImpl, memberSettings } from './group/consumer.js';
import { type DeadLetterTarget, deadLetterHeaders, deadLetterPayload, sendDeadLetter } from './dead-letter.js';
import { consumeFace, messagesFace, readableFace, valuesFace, writableFace } from '../faces/faces.js';
import { type DeadLetterReason, Group, type GroupHost } from './group/group.js';
import type { PortOpener } from '../faces/port.js';
import { pow2AtLeast } from './ring.js';
import { consumerOptions, type TopicSettings } from '../topic-options.js';
import { inspectCustom, inspectFields, type Inspect } from '../inspect.js';
import { TopicLog } from './topic-log.js';
import { NO_JOURNAL } from './journal.js';
import { StoreJournal } from '../durable/journal.js';
import { openDurable } from '../durable/open.js';

/** Where dead letters go: the bus resolves a topic name. */
export interface DeadLetterRouter {
  deadLetterTopic(name: string): TopicImpl<unknown> | undefined;
}

/** The in-memory topic engine: the log ({@link TopicLog}) plus its groups, consumers, faces, recovery and lifecycle. */
export class TopicImpl<T> extends TopicLog<T> implements Topic<T>, GroupHost<T> {
  readonly ackTimeoutMs: number;
  readonly maxDeliveries: number;
  deadLetterDropped = 0;
  private readonly groups = new Map<string, Group<T>>();
  private privateSeq = 0;
  private readonly router: DeadLetterRouter | undefined;
  /** Settles once the store is open and recovery applied, or it could not open (see `openError`). */
  readonly ready: Promise<void>;
  /** Where each group made while the store opens starts, once it is open. */
  private readonly starts = new Map<Group<T>, () => number>();

  constructor(name: string, settings: TopicSettings, router?: DeadLetterRouter) {
    super(name, settings);
    this.ackTimeoutMs = settings.ackTimeoutMs;
    this.maxDeliveries = settings.maxDeliveries;
    this.router = router;
    this.ready = settings.storage === undefined ? Promise.resolve() : openDurable(this, settings.storage);
    for (const g of settings.groups) if (!this.groups.has(g)) this.addGroup(g, true, this.ring.head);
  }

  /** @internal (DurableTopic) */
  refuseOpen(error: StorageError): void {
    this.openError = error;
    this.attach(undefined);
  }

  /** @internal (DurableTopic) Groups made while the store opened are placed: runs what waited, and wakes the groups. */
  openEnded(): void {
    this.starts.clear();
    this.opened();
    this.wakeAll();
  }

  /** Journals to `store` from now on (none: to nothing). */
  private attach(store: TopicStore | undefined): void {
    this.store = store;
    this.journal = store === undefined ? NO_JOURNAL : new StoreJournal(store, this.levelCount);
  }

  /**
   * @internal (DurableTopic) Applies what the store recovered in one turn: groups made while it
   * opened start where they asked, against the recovered offsets.
   */
  applyRecovery(store: TopicStore, r: RecoveredTopic, messages: Iterable<StoredMessage>): void {
    this.attach(store);
    this.recover(r, messages);
    for (const [g, startOf] of this.starts) {
      if (g.durable && r.groups.some((sg) => sg.name === g.name)) continue; // placed by recover()
      const start = startOf();
      g.reopen(start, store);
      g.updateDirect();
      if (g.durable) store.group({ kind: 'create', group: g.name, offset: start });
      this.committedLowered(start);
    }
  }

  /** With a codec: turns a retained frame back into a value (each consumer gets its own). */
  get decode(): ((bytes: unknown) => T) | undefined {
    return this.codec?.decode;
  }

  /** Rebuilds the ring and the durable groups from what the store recovered. */
  private recover(r: RecoveredTopic, messages: Iterable<StoredMessage>): void {
    const ring = this.ring;
    let empty = true;
    for (const m of messages) {
      if (empty) {
        ring.startAt(m.offset);
        empty = false;
      } else if (m.offset < ring.tail) continue;
      this.fit(m.offset + 1);
      if (m.offset > ring.tail) ring.skipTo(m.offset);
      ring.append(m.value as T, m.key, m.headers, m.timestamp, m.expires);
      if (this.levelOf !== undefined) this.levelOf[m.offset & ring.mask] = Math.min(m.priority ?? 0, this.levelCount - 1);
      if (m.expires !== Infinity) {
        this.expiry.add(m.expires, m.offset);
        this.ttlActive = true;
      }
      // a message due while the process was down is due now
      if (m.due !== undefined && m.due > this.scheduler.now()) this.delay(m.offset, m.due);
    }
    if (empty) ring.startAt(r.tail);
    else if (r.tail > ring.tail) {
      this.fit(r.tail);
      ring.skipTo(r.tail);
    }
    this.published = ring.tail;
    for (const sg of r.groups) {
      const start = Math.max(ring.head, Math.min(sg.committed, ring.tail));
      const made = this.groups.get(sg.name); // made while the store opened
      let g: Group<T>;
      if (made !== undefined && made.durable) {
        g = made;
        g.reopen(start, this.store as TopicStore);
        g.updateDirect();
        this.committedLowered(start);
      } else g = this.addGroup(sg.name, true, start, false);
      g.restore(sg);
    }
    const corrupt = r.corrupt;
    if (corrupt !== undefined && corrupt.length > 0) {
      // after this turn, so a dead-letter topic created right after this one gets its own options
      queueMicrotask(() => {
        for (const c of corrupt) {
          const h = { 'x-original-offsets': `${c.offset}..${c.end - 1}` };
          void this.deadLetter('', c.offset, 'corrupt', c.detail, 0, c.bytes as T, undefined, h);
        }
      });
    }
  }

  /** Recovery: makes the ring wide enough for offsets up to `end` (exclusive). */
  private fit(end: number): void {
    const need = end - this.ring.head;
    if (need > this.ring.slots) this.relayout(pow2AtLeast(need));
  }

  // ---- for the groups (GroupHost) and the log -----------------------------------------------

  protected onExpiryTimer(): void {
    this.expireUntil(this.scheduler.now());
    this.releasedSlow();
    for (const g of this.groupList) if (this.closed) g.wake();
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

  /** `from`, `fallback`: where a group made while the store opens starts once it is open (default: the first retained offset). */
  private addGroup(name: string, durable: boolean, start: number, journal = true, from?: ConsumerOptions<T>['from'], fallback: 'earliest' | 'latest' = 'earliest'): Group<T> {
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
    this.releasedSlow();
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
    return this.ready.then(() => this.store?.destroy());
  }

  /** Flushes and releases the storage (the bus is closing). */
  release(): Promise<void> {
    return this.store === undefined && !this.opening ? Promise.resolve() : this.ready.then(() => this.store?.close());
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
    const storage = this.store?.stats?.();
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
