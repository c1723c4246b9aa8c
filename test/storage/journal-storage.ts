import { type GroupEvent, type RecoveredTopic, type Storage, StorageError, type StoredMessage, type TopicStore } from '../../src/index.js';

interface GroupState {
  committed: number;
  settled: Set<number>;
  deliveries: Map<number, number>;
}

interface TopicJournal {
  tail: number;
  messages: Map<number, StoredMessage>;
  groups: Map<string, GroupState>;
  syncs: number;
}

/** Yields `list` one message a turn, as a store reading in chunks would. */
async function* streamed<M>(list: readonly M[]): AsyncGenerator<M> {
  for (const m of list) {
    await Promise.resolve();
    yield m;
  }
}

export interface JournalStorage extends Storage {
  journal(topic: string): TopicJournal | undefined;
}

/**
 * A storage that journals into plain maps and survives a "restart" (a new bus opening the same
 * storage object): the reference implementation of the storage seam, for tests. By default it
 * also opens synchronously (`openSync`); with `async`, it only has `open`, resolving after
 * `openMs` ms (0: a macrotask), and streams the messages it recovered one a turn.
 */
export function journalStorage(options?: { readonly async?: boolean; readonly openMs?: number; readonly fail?: string }): JournalStorage {
  const topics = new Map<string, TopicJournal>();
  const openSync = (topic: string): TopicStore & { readonly recovered: { readonly messages: StoredMessage[] } } => {
    let j = topics.get(topic);
    if (j === undefined) {
      j = { tail: 0, messages: new Map(), groups: new Map(), syncs: 0 };
      topics.set(topic, j);
    }
    const journal = j;
    const recovered: RecoveredTopic & { messages: StoredMessage[] } = {
      tail: journal.tail,
      messages: [...journal.messages.values()].sort((a, b) => a.offset - b.offset),
      groups: [...journal.groups].map(([name, g]) => ({ name, committed: g.committed, settled: [...g.settled], deliveries: new Map(g.deliveries) })),
    };
    const advance = (g: GroupState) => {
      while (g.settled.delete(g.committed)) {
        g.deliveries.delete(g.committed);
        g.committed++;
      }
    };
    return {
      recovered,
      append(m) {
        journal.messages.set(m.offset, m);
        journal.tail = m.offset + 1;
      },
      group(e: GroupEvent) {
        if (e.kind === 'create') journal.groups.set(e.group, { committed: e.offset, settled: new Set(), deliveries: new Map() });
        else if (e.kind === 'delete') journal.groups.delete(e.group);
        else {
          const g = journal.groups.get(e.group);
          if (g === undefined) return;
          if (e.kind === 'deliver') g.deliveries.set(e.offset, e.count);
          else if (e.kind === 'settle') {
            g.settled.add(e.offset);
            advance(g);
          } else if (e.kind === 'commit') {
            for (let o = g.committed; o < e.offset; o++) g.deliveries.delete(o);
            if (e.offset > g.committed) g.committed = e.offset;
            for (const o of g.settled) if (o < g.committed) g.settled.delete(o);
            advance(g);
          } else {
            g.committed = e.offset;
            g.settled.clear();
            g.deliveries.clear();
          }
        }
      },
      evicted(head) {
        for (const o of journal.messages.keys()) if (o < head) journal.messages.delete(o);
      },
      sync() {
        journal.syncs++;
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
      destroy() {
        topics.delete(topic);
        return Promise.resolve();
      },
    };
  };
  const name = 'journal';
  const journal = (topic: string): TopicJournal | undefined => topics.get(topic);
  if (options?.async !== true) return { name, journal, openSync, open: (topic) => Promise.resolve(openSync(topic)) };
  return {
    name,
    journal,
    async open(topic: string): Promise<TopicStore> {
      await new Promise((resolve) => setTimeout(resolve, options.openMs ?? 0));
      if (options.fail !== undefined) throw new StorageError(options.fail);
      const store = openSync(topic);
      return { ...store, recovered: { ...store.recovered, messages: streamed(store.recovered.messages) } };
    },
  };
}
