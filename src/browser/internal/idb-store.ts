/** One topic's store in IndexedDB: appends go into a readwrite transaction at once, and a sync is its commit. */
import { StorageError } from '../../errors.js';
import type { GroupEvent, RecoveredTopic, StoredMessage, StoreStats, TopicStore } from '../../storage.js';
import { applyGroupEvent, type GroupState, storedGroup } from './group-state.js';
import type { Durability } from '../types.js';
import { committed, GROUPS, MESSAGES, request, storageError, STORES, TOPICS, topicRange } from './idb.js';

/** Messages read per request while recovery streams them. */
const CHUNK = 512;


/** What the storage object does for its topics' stores. */
export interface StoreOwner {
  /** The IndexedDB database name. */
  readonly database: string;
  readonly durability: Durability;
  /** The store of `topic` closed or was destroyed: release its lock and, with it the last, the database. */
  released(topic: string): void;
}

/** What a topic's stored record of itself holds. */
interface TopicRecord {
  tail: number;
}

/**
 * Writes are not buffered here: each `append` is a `put` into the current readwrite transaction
 * (a value that cannot be cloned is refused then, and nothing is accepted); group events change
 * the groups' states, written once per turn. A transaction stays open for the turn that made it
 * and commits on its own after; `sync()` resolves when the last one has committed (IndexedDB
 * commits readwrite transactions over the same stores in the order they were made).
 */
export class IdbTopicStore implements TopicStore {
  readonly recovered: RecoveredTopic;
  private tx: IDBTransaction | undefined = undefined;
  private last: Promise<void> = Promise.resolve();
  private failure: StorageError | undefined = undefined;
  private readonly changed = new Set<string>();
  private tail: number;
  private tailChanged = false;
  /** Everything below is deleted or about to be (`evicted`). */
  private evictedTo: number;
  private evictTo: number;
  private flushQueued = false;
  private closed = false;
  private appended = 0;
  private transactions = 0;

  private constructor(
    private readonly owner: StoreOwner,
    private readonly db: IDBDatabase,
    private readonly topic: string,
    private readonly groups: Map<string, GroupState>,
    tail: number,
    head: number,
  ) {
    this.tail = tail;
    this.evictedTo = head;
    this.evictTo = head;
    const stored = [...groups].map(([name, g]) => storedGroup(name, g));
    this.recovered = { tail, groups: stored, messages: this.stream(head, tail) };
  }

  /** Reads what `topic` holds: its tail, first retained offset and groups (its messages stream later). */
  static async open(owner: StoreOwner, db: IDBDatabase, topic: string): Promise<IdbTopicStore> {
    const what = `indexedDbStorage('${owner.database}'): cannot recover topic \`${topic}\``;
    const tx = db.transaction(STORES, 'readonly');
    const range = topicRange(topic);
    const meta = request(tx.objectStore(TOPICS).get(topic) as IDBRequest<TopicRecord | undefined>, what);
    const first = request(tx.objectStore(MESSAGES).openKeyCursor(range, 'next'), what);
    const last = request(tx.objectStore(MESSAGES).openKeyCursor(range, 'prev'), what);
    const names = request(tx.objectStore(GROUPS).getAllKeys(range), what);
    const states = request(tx.objectStore(GROUPS).getAll(range) as IDBRequest<GroupState[]>, what);
    const firstKey = (await first)?.key as [string, number] | undefined;
    const lastKey = (await last)?.key as [string, number] | undefined;
    const groups = new Map<string, GroupState>();
    const keys = await names;
    const values = await states;
    for (let i = 0; i < keys.length; i++) groups.set((keys[i] as [string, string])[1], values[i]);
    const tail = Math.max((await meta)?.tail ?? 0, lastKey === undefined ? 0 : lastKey[1] + 1);
    const head = firstKey === undefined ? tail : firstKey[1];
    return new IdbTopicStore(owner, db, topic, groups, tail, head);
  }

  /** The retained messages `[from, to)`, read `CHUNK` at a time as the topic takes them. */
  private async *stream(from: number, to: number): AsyncGenerator<StoredMessage> {
    const what = `indexedDbStorage('${this.owner.database}'): cannot read topic \`${this.topic}\``;
    let next = from;
    while (next < to) {
      const range = IDBKeyRange.bound([this.topic, next], [this.topic, to], false, true);
      const chunk = await request(this.db.transaction(MESSAGES, 'readonly').objectStore(MESSAGES).getAll(range, CHUNK) as IDBRequest<StoredMessage[]>, what);
      if (chunk.length === 0) return;
      for (const m of chunk) yield m;
      next = chunk[chunk.length - 1].offset + 1;
    }
  }

  append(message: StoredMessage): void {
    this.put(MESSAGES, message, [this.topic, message.offset], `message ${message.offset}`);
    this.appended++;
    this.tail = message.offset + 1;
    this.tailChanged = true;
    this.queueFlush();
  }

  group(event: GroupEvent): void {
    const name = applyGroupEvent(this.groups, event);
    if (name === undefined) return;
    this.changed.add(name);
    this.queueFlush();
  }

  evicted(head: number): void {
    if (head <= this.evictTo) return;
    this.evictTo = head;
    this.queueFlush();
  }

  sync(): Promise<void> {
    try {
      this.flush();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.last.then(() => {
      if (this.failure !== undefined) throw this.failure;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.sync();
    } finally {
      this.closed = true;
      this.owner.released(this.topic);
    }
  }

  async destroy(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.last.catch(() => undefined);
      const tx = this.db.transaction(STORES, 'readwrite', { durability: this.owner.durability });
      tx.objectStore(MESSAGES).delete(topicRange(this.topic));
      tx.objectStore(GROUPS).delete(topicRange(this.topic));
      tx.objectStore(TOPICS).delete(this.topic);
      await committed(tx, `indexedDbStorage('${this.owner.database}'): cannot delete topic \`${this.topic}\``);
    } finally {
      this.owner.released(this.topic);
    }
  }

  stats(): StoreStats {
    return { database: this.owner.database, durability: this.owner.durability, appended: this.appended, transactions: this.transactions, failed: this.failure !== undefined };
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      try {
        this.flush();
      } catch {
        // recorded in `failure`: the next append or sync reports it
      }
    });
  }

  /** Writes the groups that changed, the tail and evictions into the current transaction. */
  private flush(): void {
    this.flushQueued = false;
    for (const name of this.changed) {
      const g = this.groups.get(name);
      if (g === undefined) this.write((tx) => tx.objectStore(GROUPS).delete([this.topic, name]));
      else this.put(GROUPS, g, [this.topic, name], `group \`${name}\``);
    }
    this.changed.clear();
    if (this.tailChanged) {
      this.tailChanged = false;
      this.put(TOPICS, { tail: this.tail } satisfies TopicRecord, this.topic, 'its tail');
    }
    if (this.evictTo > this.evictedTo) {
      const range = IDBKeyRange.bound([this.topic, this.evictedTo], [this.topic, this.evictTo], false, true);
      this.evictedTo = this.evictTo;
      this.write((tx) => tx.objectStore(MESSAGES).delete(range));
    }
  }

  private put(store: string, value: unknown, key: IDBValidKey, what: string): void {
    try {
      this.write((tx) => tx.objectStore(store).put(value, key));
    } catch (e) {
      if (e instanceof StorageError) throw e;
      const name = (e as { name?: unknown })?.name;
      if (name === 'DataCloneError') throw storageError(`indexedDbStorage('${this.owner.database}'): topic \`${this.topic}\` cannot keep ${what} (IndexedDB stores what structured clone copies; give the topic a codec for anything else)`, e);
      throw storageError(`indexedDbStorage('${this.owner.database}'): topic \`${this.topic}\` cannot write ${what}`, e);
    }
  }

  /** Runs `op` in the current readwrite transaction, making a new one when there is none or it is no longer active. */
  private write(op: (tx: IDBTransaction) => void): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.closed) throw new StorageError(`indexedDbStorage('${this.owner.database}'): topic \`${this.topic}\` is closed`);
    if (this.tx !== undefined) {
      try {
        op(this.tx);
        return;
      } catch (e) {
        // inactive (its turn is over) or finished (committed): the next transaction takes it
        const name = (e as { name?: unknown })?.name;
        if (name !== 'TransactionInactiveError' && name !== 'InvalidStateError') throw e;
      }
    }
    op(this.begin());
  }

  private begin(): IDBTransaction {
    const tx = this.db.transaction(STORES, 'readwrite', { durability: this.owner.durability });
    this.tx = tx;
    this.transactions++;
    const done = committed(tx, `indexedDbStorage('${this.owner.database}'): topic \`${this.topic}\`: a write did not commit`);
    this.last = done.then(
      () => {
        if (this.tx === tx) this.tx = undefined;
      },
      (e: StorageError) => {
        if (this.tx === tx) this.tx = undefined;
        this.failure ??= e;
      },
    );
    return tx;
  }
}
