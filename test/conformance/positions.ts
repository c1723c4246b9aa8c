import { describe, expect, it } from 'vitest';
import type { MakeBus } from './index.js';

export function positionsSuite(makeBus: MakeBus): void {
  describe('positions', () => {
    it("a new group starts at 'earliest' by default; a subscription without a group at 'latest'", async () => {
      const t = makeBus().topic<number>('t');
      await t.publishBatch([0, 1, 2]);
      const grouped = t.consumer({ group: 'new' });
      const ungrouped = t.consumer();
      expect(grouped.tryRecv()?.offset).toBe(0);
      expect(ungrouped.tryRecv()).toBeUndefined();
      t.tryPublish(3);
      expect(ungrouped.tryRecv()?.offset).toBe(3);
    });

    it("from 'latest', { offset } and 'earliest' for new groups", async () => {
      const t = makeBus().topic<number>('t');
      await t.publishBatch([0, 1, 2, 3]);
      expect(t.consumer({ group: 'l', from: 'latest' }).tryRecv()).toBeUndefined();
      expect(t.consumer({ group: 'o', from: { offset: 2 } }).tryRecv()?.offset).toBe(2);
      expect(t.consumer({ group: 'far', from: { offset: 99 } }).tryRecv()).toBeUndefined();
      expect(t.consumer({ group: 'e', from: 'earliest' }).tryRecv()?.offset).toBe(0);
      expect(t.consumer({ from: { offset: 1 } }).tryRecv()?.offset).toBe(1);
    });

    it("an existing group ignores 'from' and resumes at its committed offset", async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([0, 1, 2, 3, 4]);
      const c = t.consumer({ group: 'g' });
      c.tryRecv()!.ack();
      c.tryRecv()!.ack();
      c.close();
      expect(t.stats().groups.g).toMatchObject({ committed: 2, members: 0 });
      const again = t.consumer({ group: 'g', from: 'latest' });
      expect(again.tryRecv()?.offset).toBe(2);
      const viaCommitted = t.consumer({ group: 'g', from: 'committed' });
      expect(viaCommitted.tryRecv()?.offset).toBe(3);
    });

    it('a durable group holds its place while no member is connected, and gates retention', async () => {
      const t = makeBus().topic<number>('t', { capacity: 2, groups: ['g'] });
      const c = t.consumer({ group: 'g' });
      c.close();
      t.tryPublish(0);
      t.tryPublish(1);
      expect(t.tryPublish(2)).toBe(false);
      expect(t.stats().groups.g).toMatchObject({ members: 0, lag: 2 });
    });

    it('commit(n) settles everything below n; a lower commit is a no-op', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([0, 1, 2, 3, 4]);
      const c = t.consumer({ group: 'g' });
      const d0 = c.tryRecv()!;
      c.commit(3);
      expect(d0.ack()).toBe(false);
      expect(t.stats().groups.g).toMatchObject({ committed: 3, pending: 0, lag: 2 });
      expect(c.tryRecv()?.offset).toBe(3);
      c.commit(1);
      expect(t.stats().groups.g.committed).toBe(3);
    });

    it('seek(5): the next delivery is offset 5; skipped messages count as missed; outstanding deliveries go stale', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([0, 1, 2, 3, 4, 5, 6, 7]);
      const c = t.consumer({ group: 'g' });
      const d0 = c.tryRecv()!;
      c.seek(5);
      expect(d0.ack()).toBe(false);
      expect(c.held).toBe(0);
      expect(c.tryRecv()?.offset).toBe(5);
      expect(t.stats().groups.g).toMatchObject({ missed: 5 });
    });

    it('seek backwards replays from a retained offset, clamped to the head', async () => {
      const t = makeBus().topic<number>('t', { capacity: 4 });
      await t.publishBatch([0, 1, 2, 3, 4, 5]);
      const c = t.consumer({ group: 'g', from: 'latest' });
      c.seek(0);
      const d = c.tryRecv()!;
      expect(d.offset).toBe(2);
      expect(d.deliveryCount).toBe(1);
      d.ack();
      c.seek(3);
      expect(c.tryRecv()?.offset).toBe(3);
    });

    it('deleteGroup removes a durable group and releases what it held back', () => {
      const t = makeBus().topic<number>('t', { capacity: 1, groups: ['g'] });
      t.tryPublish(0);
      expect(t.tryPublish(1)).toBe(false);
      const c = t.consumer({ group: 'g' });
      expect(t.deleteGroup('g')).toBe(true);
      expect(c.closed).toBe(true);
      expect(t.deleteGroup('g')).toBe(false);
      expect(t.tryPublish(1)).toBe(true);
      expect(t.stats().groups).toEqual({});
    });

    it('a subscription without a group vanishes with its consumer', () => {
      const t = makeBus().topic<number>('t', { capacity: 1 });
      const c = t.consumer();
      t.tryPublish(0);
      expect(t.tryPublish(1)).toBe(false); // the live private subscription gates
      expect(Object.values(t.stats().groups)[0]).toMatchObject({ durable: false, members: 1 });
      c.close();
      expect(t.stats().groups).toEqual({});
      expect(t.tryPublish(1)).toBe(true);
    });
  });
}
