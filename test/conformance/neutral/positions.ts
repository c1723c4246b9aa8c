import { describe, expect } from 'vitest';
import type { Test } from './index.js';

export function positionsNeutral(test: Test): void {
  describe('positions', () => {
    test("a new group starts at 'earliest' by default; a subscription without a group at 'latest'", async (k) => {
      const t = k.bus().topic<number>('t');
      await t.publishBatch([0, 1, 2]);
      const grouped = t.consumer({ group: 'new' });
      const ungrouped = t.consumer();
      expect((await k.take(grouped)).offset).toBe(0);
      await k.expectNone(ungrouped);
      await t.publish(3);
      expect((await k.take(ungrouped)).offset).toBe(3);
    });

    test("from 'latest', { offset } and 'earliest' for new groups", async (k) => {
      const t = k.bus().topic<number>('t');
      await t.publishBatch([0, 1, 2, 3]);
      await k.expectNone(t.consumer({ group: 'l', from: 'latest' }));
      expect((await k.take(t.consumer({ group: 'o', from: { offset: 2 } }))).offset).toBe(2);
      await k.expectNone(t.consumer({ group: 'far', from: { offset: 99 } }));
      expect((await k.take(t.consumer({ group: 'e', from: 'earliest' }))).offset).toBe(0);
      expect((await k.take(t.consumer({ from: { offset: 1 } }))).offset).toBe(1);
    });

    test("an existing group ignores 'from' and resumes at its committed offset", async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([0, 1, 2, 3, 4]);
      const c = t.consumer({ group: 'g', prefetch: 2 });
      for (const d of await k.collect(c, 2, { ack: false })) d.ack();
      c.close();
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ committed: 2, members: 0 }));
      const again = t.consumer({ group: 'g', from: 'latest', prefetch: 1 });
      expect((await k.take(again)).offset).toBe(2);
      const viaCommitted = t.consumer({ group: 'g', from: 'committed', prefetch: 1 });
      expect((await k.take(viaCommitted)).offset).toBe(3);
    });

    test('a durable group holds its place while no member is connected, and gates retention', async (k) => {
      const t = k.bus().topic<number>('t', { capacity: 2, groups: ['g'] });
      t.consumer({ group: 'g' }).close();
      await t.publishBatch([0, 1]);
      const p = t.publish(2);
      expect(await k.pending(p)).toBe(true);
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ members: 0, lag: 2 }));
    });

    test('commit(n) settles everything below n; a lower commit is a no-op', async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([0, 1, 2, 3, 4]);
      const c = t.consumer({ group: 'g', prefetch: 1 });
      const d0 = await k.take(c);
      c.commit(3);
      expect(d0.ack()).toBe(false);
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ committed: 3, pending: 0, lag: 2 }));
      expect((await k.take(c)).offset).toBe(3);
      c.commit(1);
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ committed: 3, pending: 1 }));
    });

    test('seek(5): the next delivery is offset 5; skipped messages count as missed; outstanding deliveries go stale', async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([0, 1, 2, 3, 4, 5, 6, 7]);
      const c = t.consumer({ group: 'g' });
      const d0 = await k.take(c);
      c.seek(5);
      expect(d0.ack()).toBe(false);
      expect(c.held).toBe(0);
      expect((await k.take(c)).offset).toBe(5);
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ missed: 5 }));
    });

    test('seek backwards replays from a retained offset, clamped to the head', async (k) => {
      const t = k.bus().topic<number>('t', { capacity: 4 });
      await t.publishBatch([0, 1, 2, 3, 4, 5]);
      const c = t.consumer({ group: 'g', from: 'latest' });
      c.seek(0);
      const d = await k.take(c);
      expect([d.offset, d.deliveryCount]).toEqual([2, 1]);
      d.ack();
      c.seek(3);
      expect((await k.take(c)).offset).toBe(3);
    });

    test('deleteGroup removes a durable group and releases what it held back', async (k) => {
      const t = k.bus().topic<number>('t', { capacity: 1, groups: ['g'] });
      await t.publish(0);
      const p = t.publish(1);
      expect(await k.pending(p)).toBe(true);
      const c = t.consumer({ group: 'g' });
      expect(t.deleteGroup('g')).toBe(true);
      expect(c.closed).toBe(true);
      expect(t.deleteGroup('g')).toBe(false);
      expect(await p).toBe(1);
      await k.eventually(() => expect(t.stats().groups).toEqual({}));
    });

    test('a subscription without a group gates while it lives and vanishes with its consumer', async (k) => {
      const t = k.bus().topic<number>('t', { capacity: 1 });
      const c = t.consumer();
      await t.publish(0);
      const p = t.publish(1);
      expect(await k.pending(p)).toBe(true); // the live private subscription gates
      await k.eventually(() => expect(Object.values(t.stats().groups)[0]).toMatchObject({ durable: false, members: 1 }));
      c.close();
      expect(await p).toBe(1);
      await k.eventually(() => expect(t.stats().groups).toEqual({}));
    });
  });
}
