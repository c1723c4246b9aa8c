/**
 * The durable side of a topic, wrapped around the memory engine: the memory engine calls its
 * {@link Journal} (and each durable group its {@link GroupJournal}) at the points where it must,
 * and these hand each change to the topic's store. Recovery is durable/recover.ts.
 */
import type { GroupEvent, StoredMessage, StoreStats, TopicStore } from '../../storage.js';
import { EMPTY_HEADERS } from '../memory/ring.js';
import type { GroupJournal, Journal } from '../memory/journal.js';
import type { PublishSettings } from '../topic-options.js';

export class StoreJournal implements Journal {
  /** The level of a message that names none, with priorities; -1 without. */
  private readonly defaultLevel: number;

  /** `priorities`: the topic's levels (1: none). */
  constructor(
    readonly store: TopicStore,
    priorities: number,
  ) {
    this.defaultLevel = priorities > 1 ? (priorities - 1) >>> 1 : -1;
  }

  append(offset: number, value: unknown, s: PublishSettings, timestamp: number, expires: number, due: number): void {
    const m: StoredMessage = { offset, value, key: s.key, headers: s.headers ?? EMPTY_HEADERS, timestamp, expires };
    const priority = this.defaultLevel < 0 ? undefined : s.priority < 0 ? this.defaultLevel : s.priority;
    this.store.append(due === 0 && priority === undefined ? m : { ...m, due: due === 0 ? undefined : due, priority });
  }

  evicted(head: number): void {
    this.store.evicted(head);
  }

  group(event: GroupEvent): void {
    this.store.group(event);
  }

  forGroup(name: string): GroupJournal {
    return new StoreGroupJournal(this.store, name);
  }

  accepted<R>(result: R): Promise<R> {
    return this.store.sync().then(() => result);
  }

  confirm<R>(result: R, resolve: (result: R) => void, reject: (e: unknown) => void): void {
    this.store.sync().then(() => resolve(result), reject);
  }

  sync(): Promise<void> {
    return this.store.sync();
  }

  stats(): StoreStats | undefined {
    return this.store.stats?.();
  }

  close(): Promise<void> {
    return this.store.close();
  }

  destroy(): Promise<void> {
    return this.store.destroy();
  }
}

/** A durable group's journal: each change becomes a group event of the topic's store. */
class StoreGroupJournal implements GroupJournal {
  readonly records = true;

  constructor(
    private readonly store: TopicStore,
    private readonly group: string,
  ) {}

  deliver(offset: number, count: number): void {
    this.store.group({ kind: 'deliver', group: this.group, offset, count });
  }

  settle(offset: number): void {
    this.store.group({ kind: 'settle', group: this.group, offset });
  }

  commit(offset: number): void {
    this.store.group({ kind: 'commit', group: this.group, offset });
  }

  seek(offset: number): void {
    this.store.group({ kind: 'seek', group: this.group, offset });
  }
}
