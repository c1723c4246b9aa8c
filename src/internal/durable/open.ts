/**
 * Opening a topic's store: synchronously when the storage can (the topic is ready at once), else
 * asynchronously while publishes, commits and seeks wait. Whatever the store recovered, streamed
 * or not, reaches the topic in one turn; a store that cannot open leaves the topic refusing with
 * a StorageError.
 */
import { StorageError } from '../../errors.js';
import type { RecoveredTopic, Storage, StoredMessage, TopicStore } from '../../storage.js';

/** What opening needs of the topic (the memory engine's TopicImpl). */
export interface DurableTopic {
  readonly name: string;
  /** True while the store opens: what changes the topic waits. */
  opening: boolean;
  /** Takes `store` as the topic's and applies what it recovered, in one turn. */
  applyRecovery(store: TopicStore, r: RecoveredTopic, messages: Iterable<StoredMessage>): void;
  /** The store could not open: the topic refuses with `error` from now on. */
  refuseOpen(error: StorageError): void;
  /** Opening ended (opened or refused): runs what waited. */
  openEnded(): void;
  close(): Promise<void>;
}

/** Opens `topic`'s store in `storage`; the promise settles once what it recovered is applied, or it was refused. */
export function openDurable(topic: DurableTopic, storage: Storage): Promise<void> {
  if (storage.openSync !== undefined) {
    const store = storage.openSync(topic.name);
    topic.applyRecovery(store, store.recovered, store.recovered.messages);
    return Promise.resolve();
  }
  storage.checkName?.(topic.name); // a name the storage cannot keep is refused at topic(), as with openSync
  topic.opening = true;
  return openAsync(topic, storage);
}

async function openAsync(topic: DurableTopic, storage: Storage): Promise<void> {
  let store: TopicStore | undefined;
  try {
    store = await storage.open(topic.name);
    const r = store.recovered;
    const messages: StoredMessage[] = [];
    if (Symbol.asyncIterator in r.messages) for await (const m of r.messages) messages.push(m);
    else for (const m of r.messages) messages.push(m);
    topic.applyRecovery(store, r, messages);
  } catch (e) {
    const cause = e instanceof Error ? e : new Error(String(e));
    topic.refuseOpen(e instanceof StorageError ? e : new StorageError(`cannot open topic \`${topic.name}\` in ${storage.name}: ${cause.message}`, { cause: e }));
    if (store !== undefined) await store.close().catch(() => undefined);
    void topic.close();
  }
  topic.openEnded();
}
