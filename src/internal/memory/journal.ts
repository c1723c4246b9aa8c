import type { GroupEvent } from '../../storage.js';
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
  group(event: GroupEvent): void;
  /** `result`, once everything accepted so far is as durable as the journal makes it. */
  accepted<R>(result: R): Promise<R>;
  /** {@link accepted} for a publisher that waited: `resolve(result)`, at once without storage. */
  confirm<R>(result: R, resolve: (result: R) => void, reject: (e: unknown) => void): void;
  /** Resolves once everything accepted so far is durable. */
  sync(): Promise<void>;
}

/**
 * The journal of a topic without storage: every method does nothing. One class at every call
 * site of a process without storage, so V8 inlines the calls to nothing.
 */
class NoJournal implements Journal {
  append(): void {}
  evicted(): void {}
  group(): void {}
  accepted<R>(result: R): Promise<R> {
    return Promise.resolve(result);
  }
  confirm<R>(result: R, resolve: (result: R) => void): void {
    resolve(result);
  }
  sync(): Promise<void> {
    return Promise.resolve();
  }
}

export const NO_JOURNAL: Journal = new NoJournal();
