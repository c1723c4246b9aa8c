import type { GroupEvent, StoreStats } from '../../storage.js';
import type { PublishSettings } from '../topic-options.js';

/**
 * What the memory engine tells a durable side, at the few points where it must: a message about
 * to be appended, the head moving, a group event, and when what it accepted may be confirmed.
 * The durable side is durable/journal.ts; the memory engine never looks at a store itself.
 */
export interface Journal {
  /** Records the message about to take `offset`; may throw (a StorageError, a CodecError), and then nothing changed. */
  append(offset: number, value: unknown, s: PublishSettings, timestamp: number, expires: number, due: number): void;
  /** The oldest retained offset is now `head`. */
  evicted(head: number): void;
  /** A durable group was created or deleted. */
  group(event: GroupEvent): void;
  /** The journal of the durable group `name`. */
  forGroup(name: string): GroupJournal;
  /** `result`, once everything accepted so far is as durable as the journal makes it. */
  accepted<R>(result: R): Promise<R>;
  /** {@link accepted} for a publisher that waited: `resolve(result)`, at once without storage. */
  confirm<R>(result: R, resolve: (result: R) => void, reject: (e: unknown) => void): void;
  /** Resolves once everything accepted so far is durable. */
  sync(): Promise<void>;
  /** The store's own figures, for `stats().storage`; undefined without one. */
  stats(): StoreStats | undefined;
  /** Flushes and releases the store (the bus is closing). */
  close(): Promise<void>;
  /** Deletes what the store keeps of the topic (the topic was deleted). */
  destroy(): Promise<void>;
}

/** What a durable group tells the durable side: deliveries, settles, commits and seeks. */
export interface GroupJournal {
  /**
   * False for {@link NO_GROUP_JOURNAL}: nothing is recorded, so the paths that skip the slot
   * state (a group's lane, its `direct` hand-off) may run.
   */
  readonly records: boolean;
  /** The message at `offset` was handed out for the `count`-th time. */
  deliver(offset: number, count: number): void;
  /** The message at `offset` was settled (acked, termed, dead-lettered). */
  settle(offset: number): void;
  commit(offset: number): void;
  seek(offset: number): void;
}

/**
 * The journal of a group that records nothing (a private group, or a topic without storage):
 * one class at every call site of a process without storage, so V8 inlines the calls to nothing.
 */
class NoGroupJournal implements GroupJournal {
  readonly records = false;
  deliver(): void {}
  settle(): void {}
  commit(): void {}
  seek(): void {}
}

export const NO_GROUP_JOURNAL: GroupJournal = new NoGroupJournal();

/**
 * The journal of a topic without storage: every method does nothing. One class at every call
 * site of a process without storage, so V8 inlines the calls to nothing.
 */
class NoJournal implements Journal {
  append(): void {}
  evicted(): void {}
  group(): void {}
  forGroup(): GroupJournal {
    return NO_GROUP_JOURNAL;
  }
  accepted<R>(result: R): Promise<R> {
    return Promise.resolve(result);
  }
  confirm<R>(result: R, resolve: (result: R) => void): void {
    resolve(result);
  }
  sync(): Promise<void> {
    return Promise.resolve();
  }
  stats(): undefined {
    return undefined;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  destroy(): Promise<void> {
    return Promise.resolve();
  }
}

export const NO_JOURNAL: Journal = new NoJournal();
