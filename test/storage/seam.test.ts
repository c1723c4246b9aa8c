import { describe, expect, it } from 'vitest';
import { ClosedError, ConfigError, createBus, type Storage, StorageError } from '../../src/index.js';
import { describeNeutralConformance, describeTopicConformance, inProcessTarget } from '../conformance/index.js';
import { journalStorage } from './journal-storage.js';

describeTopicConformance('journal storage seam', (options) => createBus({ ...options, storage: journalStorage() }));

/** A journal storage whose `append` throws `disk full` while `failing(true)`. */
function flakyStorage(): { storage: Storage; failing(on: boolean): void } {
  const inner = journalStorage();
  let fail = false;
  const storage: Storage = {
    name: 'flaky',
    open: (topic) => Promise.resolve(storage.openSync!(topic)),
    openSync(topic: string) {
      const s = inner.openSync!(topic);
      return {
        ...s,
        recovered: s.recovered,
        append(m) {
          if (fail) throw new Error('disk full');
          s.append(m);
        },
      };
    },
  };
  return { storage, failing: (on) => (fail = on) };
}

describe('storage seam', () => {
  it('a restart resumes every durable group where it was; unacked deliveries come back with their count', async () => {
    const storage = journalStorage();
    const before = createBus({ storage }).topic<string>('jobs', { groups: ['w'] });
    expect(await before.publishBatch(['a', 'b', 'c', 'd', 'e'])).toEqual([0, 1, 2, 3, 4]);
    const c = before.consumer({ group: 'w' });
    const got = [c.tryRecv()!, c.tryRecv()!, c.tryRecv()!, c.tryRecv()!];
    got[0].ack();
    got[1].ack();
    got[3].ack(); // 2 is held, unacked, when the process "crashes"

    const after = createBus({ storage }).topic<string>('jobs', { groups: ['w'] });
    expect(after.stats()).toMatchObject({ head: 0, tail: 5, size: 5 });
    expect(after.stats().groups.w).toMatchObject({ committed: 2 });
    const r = after.consumer({ group: 'w' });
    const again = r.tryRecv()!;
    expect([again.offset, again.value, again.deliveryCount]).toEqual([2, 'c', 2]);
    expect(r.tryRecv()?.offset).toBe(4); // 3 was acked before the crash
    expect(await after.publish('f')).toBe(5);
  });

  it('publish resolves only after the store synced; tryPublish does not wait', async () => {
    const storage = journalStorage();
    const t = createBus({ storage }).topic<number>('t');
    await t.publish(1);
    expect(storage.journal('t')!.syncs).toBe(1);
    t.tryPublish(2);
    expect(storage.journal('t')!.syncs).toBe(1);
    expect(storage.journal('t')!.messages.size).toBe(2);
  });

  it('commit and seek are journaled; eviction tells the store', async () => {
    const storage = journalStorage();
    const t = createBus({ storage }).topic<number>('t', { capacity: 4, groups: ['g'] });
    await t.publishBatch([0, 1, 2, 3]);
    const c = t.consumer({ group: 'g' });
    c.commit(3);
    expect(storage.journal('t')!.groups.get('g')!.committed).toBe(3);
    await t.publishBatch([4, 5]);
    expect([...storage.journal('t')!.messages.keys()].sort()).toEqual([2, 3, 4, 5]);
    c.seek(2);
    const again = createBus({ storage }).topic<number>('t', { capacity: 4, groups: ['g'] });
    expect(again.consumer({ group: 'g' }).tryRecv()?.offset).toBe(2);
  });

  it('a store that refuses a message rejects that publish and accepts nothing', async () => {
    const { storage, failing } = flakyStorage();
    const t = createBus({ storage }).topic<number>('t', { groups: ['g'] });
    await t.publish(1);
    failing(true);
    await expect(t.publish(2)).rejects.toThrow('disk full');
    expect(() => t.tryPublish(3)).toThrow('disk full');
    expect(t.stats()).toMatchObject({ tail: 1, published: 1 });
  });

  it('a store refusing a waiting publish rejects that publish only; the ack that made room does not throw', async () => {
    const { storage, failing } = flakyStorage();
    const t = createBus({ storage }).topic<number>('t', { capacity: 1, groups: ['g'] });
    await t.publish(0);
    const refused = t.publish(1);
    const c = t.consumer({ group: 'g' });
    const d = c.tryRecv()!;
    failing(true);
    expect(() => d.ack()).not.toThrow();
    await expect(refused).rejects.toThrow('disk full');
    failing(false);
    expect(await t.publish(2)).toBe(1);
  });

  it('rejects something that is not a Storage', () => {
    expect(() => createBus({ storage: {} as never })).toThrow(ConfigError);
    expect(() => createBus().topic('t', { storage: 'x' as never })).toThrow(/must be a Storage/);
  });
});

describeNeutralConformance(inProcessTarget('journal storage seam, opened asynchronously', (options) => createBus({ ...options, storage: journalStorage({ async: true }) })));

describe('storage seam, opened asynchronously', () => {
  it('publishes made while the store opens wait for it, in order; tryPublish refuses until then', async () => {
    const storage = journalStorage({ async: true, openMs: 5 });
    const bus = createBus({ storage });
    const t = bus.topic<string>('t');
    expect(t.tryPublish('no')).toBe(false);
    const first = t.publish('a');
    const batch = t.publishBatch(['b', 'c']);
    expect(storage.journal('t')).toBeUndefined();
    expect(await first).toBe(0);
    expect(await batch).toEqual([1, 2]);
    await bus.ready();
    expect(t.tryPublish('d')).toBe(true);
    expect([...storage.journal('t')!.messages.values()].map((m) => m.value)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a consumer made before the store opened gets what was recovered, with delivery counts', async () => {
    const storage = journalStorage({ async: true });
    const before = createBus({ storage }).topic<string>('jobs', { groups: ['w'] });
    await before.publishBatch(['a', 'b', 'c', 'd']);
    const c = before.consumer({ group: 'w' });
    const held = [(await c.recv())!, (await c.recv())!];
    held[0].ack();

    const bus = createBus({ storage });
    const after = bus.topic<string>('jobs', { groups: ['w'] });
    const r = after.consumer({ group: 'w' });
    const live = after.consumer(); // a subscription starts at the recovered tail
    expect(r.tryRecv()).toBeUndefined();
    const again = (await r.recv())!;
    expect([again.offset, again.value, again.deliveryCount]).toEqual([1, 'b', 2]);
    expect((await r.recv())!.offset).toBe(2);
    expect(after.stats()).toMatchObject({ head: 0, tail: 4 });
    expect(await after.publish('e')).toBe(4);
    expect((await live.recv())!.value).toBe('e');
  });

  it('a group made while the store opens, new to it, starts where it asked and is journaled', async () => {
    const storage = journalStorage({ async: true });
    await createBus({ storage }).topic<number>('t').publishBatch([0, 1, 2]);
    const bus = createBus({ storage });
    const t = bus.topic<number>('t');
    const early = t.consumer({ group: 'early' });
    const late = t.consumer({ group: 'late', from: 'latest' });
    await bus.ready();
    expect(early.tryRecv()?.offset).toBe(0);
    expect(late.tryRecv()).toBeUndefined();
    expect(storage.journal('t')!.groups.get('late')?.committed).toBe(3);
    expect(storage.journal('t')!.groups.get('early')?.committed).toBe(0);
  });

  it('a commit or seek made while the store opens applies once it is open', async () => {
    const storage = journalStorage({ async: true });
    await createBus({ storage }).topic<number>('t', { groups: ['g'] }).publishBatch([0, 1, 2, 3]);
    const bus = createBus({ storage });
    const c = bus.topic<number>('t', { groups: ['g'] }).consumer({ group: 'g' });
    expect(c.commit(2)).toBe(true);
    await bus.ready();
    expect(storage.journal('t')!.groups.get('g')!.committed).toBe(2);
    expect(c.tryRecv()?.offset).toBe(2);
  });

  it('deleteGroup while the store opens deletes the recovered group too', async () => {
    const storage = journalStorage({ async: true });
    await createBus({ storage }).topic<number>('t', { groups: ['g'] }).publishBatch([0]);
    const bus = createBus({ storage });
    const t = bus.topic<number>('t');
    t.deleteGroup('g');
    await bus.ready();
    expect(t.stats().groups.g).toBeUndefined();
    expect(storage.journal('t')!.groups.has('g')).toBe(false);
  });

  it('a store that cannot open rejects every publish and bus.ready() with its StorageError', async () => {
    const bus = createBus({ storage: journalStorage({ async: true, fail: 'no room (test)' }) });
    const t = bus.topic<number>('t');
    const waiting = t.publish(1);
    const c = t.consumer({ group: 'g' });
    const recv = c.recv();
    await expect(waiting).rejects.toThrow(StorageError);
    await expect(waiting).rejects.toThrow('no room (test)');
    await expect(bus.ready()).rejects.toThrow('no room (test)');
    await expect(t.publish(2)).rejects.toThrow('no room (test)');
    expect(await recv).toBeUndefined(); // the topic is closed: its consumers end
    expect(t.closed).toBe(true);
    await bus.close();
  });

  it('a topic closed while its store opens refuses what waited and releases the store once open', async () => {
    let closed = 0;
    const inner = journalStorage({ async: true });
    const storage: Storage = {
      name: 'counting',
      open: async (topic) => {
        const s = await inner.open(topic);
        return { ...s, close: () => (closed++, s.close()) };
      },
    };
    const bus = createBus({ storage });
    const waiting = bus.topic<number>('t').publish(1);
    const closing = bus.close();
    await expect(waiting).rejects.toThrow(ClosedError);
    await closing;
    expect(closed).toBe(1);
  });

  it('a writable resolves a write once durable, also when written before the store opened', async () => {
    const storage = journalStorage({ async: true });
    const t = createBus({ storage }).topic<number>('t');
    const w = t.writable().getWriter();
    await w.write(1);
    expect(storage.journal('t')!.syncs).toBeGreaterThanOrEqual(1);
    const syncs = storage.journal('t')!.syncs;
    await w.write(2);
    expect(storage.journal('t')!.syncs).toBe(syncs + 1);
  });
});

describe('a group recovered with acks past a held delivery', () => {
  for (const async of [false, true]) {
    it(`reaches lag 0 once the held delivery is acked (${async ? 'opened asynchronously' : 'opened in the same turn'})`, async () => {
      const storage = journalStorage({ async });
      const before = createBus({ storage });
      const t = before.topic<number>('jobs', { groups: ['g'] });
      await t.publishBatch([0, 1, 2, 3, 4, 5]);
      const c = t.consumer({ group: 'g' });
      c.tryRecv(); // 0 is held when the process dies
      c.tryRecv()!.ack();
      c.tryRecv()!.ack();

      const bus = createBus({ storage });
      const after = bus.topic<number>('jobs', { groups: ['g'] });
      await bus.ready();
      const r = after.consumer({ group: 'g' });
      const seen: number[] = [];
      for (let d = r.tryRecv(); d !== undefined; d = r.tryRecv()) {
        seen.push(d.offset);
        d.ack();
      }
      expect(seen).toEqual([0, 3, 4, 5]);
      expect(after.stats().groups.g).toMatchObject({ committed: 6, lag: 0 });
    });
  }
});
