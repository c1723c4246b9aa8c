/**
 * Opening a topic's store: synchronously when the storage can (the topic is ready at once), else
 * asynchronously while publishes, commits and seeks wait. Whatever the store recovered, streamed
 * or not, reaches the topic in one turn; a store that cannot open leaves the topic refusing with
 * a StorageError.
 */
import { StorageError } from '../../errors.js';
import type { Storage, StoredMessage, TopicStore } from '../../storage.js';
import type { TopicImpl } from '../memory/topic.js';
import { NO_JOURNAL } from '../memory/journal.js';
import { applyRecovery } from './recover.js';

/** Opens `topic`'s store in `storage`; the promise settles once what it recovered is applied, or it was refused. */
export function openDurable<T>(topic: TopicImpl<T>, storage: Storage): Promise<void> {
  if (storage.openSync !== undefined) {
    const store = storage.openSync(topic.name);
    applyRecovery(topic, store, store.recovered, store.recovered.messages);
    return Promise.resolve();
  }
  storage.checkName?.(topic.name); // a name the storage cannot keep is refused at topic(), as with openSync
  topic.opening = true;
  return openAsync(topic, storage);
}

async function openAsync<T>(topic: TopicImpl<T>, storage: Storage): Promise<void> {
  let store: TopicStore | undefined;
  try {
    store = await storage.open(topic.name);
    const r = store.recovered;
    const messages: StoredMessage[] = [];
    if (Symbol.asyncIterator in r.messages) for await (const m of r.messages) messages.push(m);
    else for (const m of r.messages) messages.push(m);
    applyRecovery(topic, store, r, messages);
  } catch (e) {
    const cause = e instanceof Error ? e : new Error(String(e));
    topic.journal = NO_JOURNAL; // what was attached journals nothing more: the store is being closed
    topic.openError = e instanceof StorageError ? e : new StorageError(`cannot open topic \`${topic.name}\` in ${storage.name}: ${cause.message}`, { cause: e });
    if (store !== undefined) await store.close().catch(() => undefined);
    void topic.close();
  }
  topic.openEnded();
}
