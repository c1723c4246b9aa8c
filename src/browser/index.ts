/**
 * `ringbus/browser`: durable topics in the browser. {@link indexedDbStorage} is a `Storage`
 * (`createBus({ storage })` or `bus.topic(name, { storage })`) keeping each topic's retained
 * messages and durable groups' positions in an IndexedDB database, so that they survive a
 * reload, a closed tab or a crashed page. It uses the platform's IndexedDB and Web Locks only.
 *
 * @example
 * ```ts
 * import { createBus } from 'ringbus';
 * import { indexedDbStorage } from 'ringbus/browser';
 *
 * const bus = createBus({ storage: indexedDbStorage('app-bus') });
 * const jobs = bus.topic<Job>('jobs', { groups: ['workers'] });
 * await jobs.publish(job); // resolves once the IndexedDB transaction holding it has committed
 * ```
 *
 * @module
 */
import { ConfigError, StorageError } from '../errors.js';
import type { Storage, TopicStore } from '../storage.js';
import { describe, oneOf, options as checkOptions } from '../internal/validate.js';
import { exclusive, openDatabase } from './internal/idb.js';
import { IdbTopicStore, type StoreOwner } from './internal/idb-store.js';
import type { Durability, IndexedDbStorage, IndexedDbStorageOptions } from './types.js';

export type { Durability, IndexedDbStorage, IndexedDbStorageOptions } from './types.js';

const KEYS = ['durability'] as const;

/**
 * Creates a `Storage` in the IndexedDB database `name` (created on first use): each topic's
 * retained messages, its tail and its durable groups' positions, recovered when a bus opens the
 * topic again (after a reload, in another tab once this one has closed it, after a crash).
 *
 * A resolved `publish()` is in IndexedDB: the promise resolves once the transaction holding the
 * message has committed. Acks, commits and seeks are written in the next transaction (within
 * the same turn), so after a crash a group resumes at least where its last written position
 * was: an ack made in the last moments may be delivered again (at-least-once), never a message
 * lost. A topic is held by one storage at a time (a Web Lock per topic): opening it in a second
 * tab while the first holds it fails with `StorageError`.
 *
 * Values are kept as structured clone copies them (objects, arrays, `Date`, `Map`, typed arrays,
 * ...); a value it cannot copy (a function, a class's methods) is refused at `publish()` with
 * `StorageError`. Give the topic a `codec` to store anything else as bytes.
 *
 * @param name - The IndexedDB database name.
 * @param options - `durability` (`'strict'`).
 * @throws ConfigError when `name` or an option is invalid.
 * @example
 * ```ts
 * const bus = createBus({ storage: indexedDbStorage('app-bus', { durability: 'strict' }) });
 * const jobs = bus.topic<{ id: number }>('jobs', { groups: ['workers'] });
 * await bus.ready(); // every topic recovered (rejects with StorageError when one cannot open)
 * for await (const d of jobs.consumer({ group: 'workers' })) {
 *   await run(d.value);
 *   d.ack();
 * }
 * ```
 */
export function indexedDbStorage(name: string, options?: IndexedDbStorageOptions): IndexedDbStorage {
  if (typeof name !== 'string' || name.length === 0) throw new ConfigError('name', `\`name\` must be a non-empty IndexedDB database name, got ${describe(name)}`);
  const o = checkOptions<IndexedDbStorageOptions>('indexedDbStorage options', options, KEYS);
  const durability = o.durability === undefined ? 'strict' : oneOf('durability', o.durability, ['strict', 'relaxed', 'default']);
  return new IndexedDbStorageImpl(name, durability);
}

class IndexedDbStorageImpl implements IndexedDbStorage, StoreOwner {
  readonly name: string;
  private db: Promise<IDBDatabase> | undefined = undefined;
  /** Topics open (or opening), with the release of their lock. */
  private readonly holding = new Map<string, () => void>();

  constructor(
    readonly database: string,
    readonly durability: Durability,
  ) {
    this.name = `indexeddb:${database}`;
  }

  async open(topic: string): Promise<TopicStore> {
    if (typeof topic !== 'string' || topic.length === 0) throw new ConfigError('name', `a topic name must be a non-empty string, got ${describe(topic)}`);
    if (this.holding.has(topic)) throw new StorageError(`topic \`${topic}\` is already open in ${this.name}`);
    this.holding.set(topic, () => undefined);
    try {
      const lock = await exclusive(`ringbus:${this.database}:${topic}`);
      if (!lock.held) throw new StorageError(`topic \`${topic}\` of ${this.name} is open elsewhere (another tab, worker or storage object holds it)`);
      this.holding.set(topic, lock.release);
      this.db ??= openDatabase(this.database);
      return await IdbTopicStore.open(this, await this.db, topic);
    } catch (e) {
      this.released(topic);
      throw e;
    }
  }

  released(topic: string): void {
    const release = this.holding.get(topic);
    if (release === undefined) return;
    this.holding.delete(topic);
    release();
    if (this.holding.size === 0 && this.db !== undefined) {
      const db = this.db;
      this.db = undefined;
      db.then((d) => d.close(), () => undefined);
    }
  }
}
