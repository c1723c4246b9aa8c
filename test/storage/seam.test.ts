import { describe, expect, it } from 'vitest';
import { ConfigError, createBus, type Storage, type TopicStore } from '../../src/index.js';
import { describeTopicConformance } from '../conformance/index.js';
import { journalStorage } from './journal-storage.js';

describeTopicConformance('journal storage seam', (options) => createBus({ ...options, storage: journalStorage() }));

/** A journal storage whose `append` throws `disk full` while `failing(true)`. */
function flakyStorage(): { storage: Storage; failing(on: boolean): void } {
  const inner = journalStorage();
  let fail = false;
  const storage: Storage = {
    name: 'flaky',
    open(topic: string): TopicStore {
      const s = inner.open(topic);
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
