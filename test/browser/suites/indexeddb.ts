// indexedDbStorage in a browser page: what survives a reopen, what a resolved publish means in
// IndexedDB, what is refused.
import { describe, expect, it } from 'vitest';
import { ConfigError, createBus, StorageError } from '../../../src/index.js';
import { indexedDbStorage } from '../../../src/browser/index.js';
import { json } from '../../../src/codec/index.js';

let seq = 0;
const fresh = (): string => `idb-${++seq}-${Math.random().toString(36).slice(2)}`;

/** Reads a store of the database `db` over a connection of its own (what is committed, nothing else). */
async function raw<T>(db: string, store: string, query?: IDBValidKey | IDBKeyRange): Promise<T[]> {
  const conn = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open(db);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  try {
    return await new Promise<T[]>((resolve, reject) => {
      const req = conn.transaction(store, 'readonly').objectStore(store).getAll(query);
      req.onsuccess = () => resolve(req.result as T[]);
      req.onerror = () => reject(req.error);
    });
  } finally {
    conn.close();
  }
}

const ofTopic = (topic: string): IDBKeyRange => IDBKeyRange.bound([topic], [topic, []]);

describe('indexedDbStorage', () => {
  it('a reopened storage recovers retained messages, the tail and every durable group where it was', async () => {
    const db = fresh();
    const before = createBus({ storage: indexedDbStorage(db) });
    const t = before.topic<{ n: number }>('jobs', { groups: ['w'] });
    expect(await t.publishBatch([0, 1, 2, 3, 4].map((n) => ({ n })))).toEqual([0, 1, 2, 3, 4]);
    const c = t.consumer({ group: 'w' });
    const got = [c.tryRecv()!, c.tryRecv()!, c.tryRecv()!, c.tryRecv()!];
    got[0].ack();
    got[1].ack();
    got[3].ack();
    await before.close();

    const bus = createBus({ storage: indexedDbStorage(db) });
    const after = bus.topic<{ n: number }>('jobs', { groups: ['w'] });
    await bus.ready();
    expect(after.stats()).toMatchObject({ head: 0, tail: 5, size: 5 });
    expect(after.stats().groups.w).toMatchObject({ committed: 2 });
    const r = after.consumer({ group: 'w' });
    const again = r.tryRecv()!;
    expect([again.offset, again.value, again.deliveryCount]).toEqual([2, { n: 2 }, 2]);
    expect(r.tryRecv()?.offset).toBe(4);
    expect(await after.publish({ n: 5 })).toBe(5);
    await bus.close();
  });

  it('keeps values, keys, headers, timestamps; a codec topic keeps its bytes', async () => {
    const db = fresh();
    const bus = createBus({ storage: indexedDbStorage(db) });
    const when = new Date('2024-01-02T03:04:05Z');
    await bus.topic<unknown>('plain').publish({ s: 'é', when, bin: new Uint8Array([1, 2]), m: new Map([[1, 'a']]) }, { key: 'k', headers: { h: 'v' } });
    await bus.topic<{ a: number }>('coded', { codec: json }).publish({ a: 1 });
    await bus.close();
    const again = createBus({ storage: indexedDbStorage(db) });
    const m = again.topic<unknown>('plain').consumer({ from: 'earliest' });
    const coded = again.topic<{ a: number }>('coded', { codec: json }).consumer({ from: 'earliest' });
    await again.ready();
    const d = m.tryRecv()!;
    expect(d.value).toEqual({ s: 'é', when, bin: new Uint8Array([1, 2]), m: new Map([[1, 'a']]) });
    expect([d.key, d.headers]).toEqual(['k', { h: 'v' }]);
    expect(coded.tryRecv()?.value).toEqual({ a: 1 });
    await again.close();
  });

  it('a resolved publish is committed: another connection reads it at once', async () => {
    const db = fresh();
    const bus = createBus({ storage: indexedDbStorage(db) });
    const t = bus.topic<string>('t');
    for (let i = 0; i < 5; i++) {
      await t.publish(`m${i}`);
      const stored = await raw<{ offset: number; value: string }>(db, 'messages', ofTopic('t'));
      expect(stored.map((m) => m.value)).toEqual(Array.from({ length: i + 1 }, (_, k) => `m${k}`));
    }
    await bus.close();
  });

  it('recovery streams a topic of several chunks in order', async () => {
    const db = fresh();
    const bus = createBus({ storage: indexedDbStorage(db) });
    await bus.topic<number>('big', { capacity: 4096 }).publishBatch(Array.from({ length: 1500 }, (_, i) => i));
    await bus.close();
    const again = createBus({ storage: indexedDbStorage(db) });
    const c = again.topic<number>('big', { capacity: 4096 }).consumer({ from: 'earliest' });
    await again.ready();
    const seen: number[] = [];
    for (let d = c.tryRecv(); d !== undefined; d = c.tryRecv()) {
      seen.push(d.value);
      d.ack();
    }
    expect(seen).toEqual(Array.from({ length: 1500 }, (_, i) => i));
    await again.close();
  });

  it('what leaves the retained window is deleted from IndexedDB', async () => {
    const db = fresh();
    const bus = createBus({ storage: indexedDbStorage(db) });
    const t = bus.topic<number>('t', { capacity: 4 });
    for (let i = 0; i < 10; i++) await t.publish(i);
    const stored = await raw<{ value: number }>(db, 'messages', ofTopic('t'));
    expect(stored.map((m) => m.value)).toEqual([6, 7, 8, 9]);
    await bus.close();
  });

  it('deleteTopic deletes its messages and groups', async () => {
    const db = fresh();
    const bus = createBus({ storage: indexedDbStorage(db) });
    await bus.topic<number>('gone', { groups: ['g'] }).publishBatch([1, 2]);
    await bus.topic<number>('kept').publish(3);
    expect(await bus.deleteTopic('gone')).toBe(true);
    expect(await raw(db, 'messages', ofTopic('gone'))).toEqual([]);
    expect(await raw(db, 'groups', ofTopic('gone'))).toEqual([]);
    expect(await raw(db, 'messages', ofTopic('kept'))).toHaveLength(1);
    await bus.close();
  });

  it('a value structured clone cannot copy is refused with StorageError, and nothing is accepted', async () => {
    const bus = createBus({ storage: indexedDbStorage(fresh()) });
    const t = bus.topic<unknown>('t');
    await t.publish(1);
    await expect(t.publish(() => 1)).rejects.toThrow(StorageError);
    await expect(t.publish({ f: () => 1 })).rejects.toThrow(/structured clone/);
    expect(t.stats()).toMatchObject({ tail: 1 });
    expect(await t.publish(2)).toBe(1);
    await bus.close();
  });

  it('a topic one storage holds is refused to another (a Web Lock) until it is closed', async () => {
    const db = fresh();
    const first = createBus({ storage: indexedDbStorage(db) });
    await first.topic<number>('t').publish(1);
    const second = createBus({ storage: indexedDbStorage(db) });
    const t = second.topic<number>('t');
    await expect(second.ready()).rejects.toThrow(StorageError);
    await expect(t.publish(2)).rejects.toThrow(/open elsewhere/);
    await first.close();
    const third = createBus({ storage: indexedDbStorage(db) });
    expect(await third.topic<number>('t').publish(2)).toBe(1);
    await third.close();
    await second.close();
  });

  it('checks its name and options', () => {
    expect(() => indexedDbStorage('')).toThrow(ConfigError);
    expect(() => indexedDbStorage('x', { durability: 'sometimes' as never })).toThrow(/durability/);
    expect(() => indexedDbStorage('x', { durabilty: 'strict' } as never)).toThrow(ConfigError);
    expect(indexedDbStorage('x', { durability: 'relaxed' }).name).toBe('indexeddb:x');
  });
});
