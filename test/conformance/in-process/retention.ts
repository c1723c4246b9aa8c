import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../../src/index.js';
import { isPending } from '../../helpers.js';
import type { MakeBus } from './index.js';

export function retentionInProcess(makeBus: MakeBus): void {
  describe('retention and overflow', () => {
    it('a group that seeks back to retained messages keeps them: later publishes wait (block) or are refused (reject)', () => {
      for (const overflow of ['block', 'reject'] as const) {
        const t = makeBus().topic<number>('t', { capacity: 4, overflow, groups: ['g'] });
        const c = t.consumer({ group: 'g', prefetch: 16 });
        for (let i = 0; i < 4; i++) expect(t.tryPublish(i)).toBe(true);
        c.commit(4); // nobody needs 0..3 now: the next publishes replace the oldest
        expect(t.tryPublish(4)).toBe(true);
        expect(t.tryPublish(5)).toBe(true);
        expect(t.stats()).toMatchObject({ head: 2, tail: 6 });
        c.seek(2); // the group needs 2..5 again
        expect(t.tryPublish(6)).toBe(false);
        expect(t.stats()).toMatchObject({ head: 2, tail: 6 });
        expect([0, 1, 2, 3].map(() => c.tryRecv()?.value)).toEqual([2, 3, 4, 5]);
        const other = makeBus().topic<number>('u', { capacity: 4, overflow, groups: ['g'] }); // the same with a second group joining at earliest
        for (let i = 0; i < 6; i++) {
          other.consumer({ group: 'g' }).commit(i);
          expect(other.tryPublish(i)).toBe(true);
        }
        other.consumer({ group: 'late', from: 'earliest' });
        expect(other.tryPublish(6)).toBe(false);
        expect(other.stats()).toMatchObject({ head: 2, tail: 6 });
      }
    });

    it('tryPublish answers at once: false where publish would wait (block) or reject (reject, grow at maxCapacity), true once there is room', async () => {
      const block = makeBus().topic<number>('b', { capacity: 2, groups: ['g'], overflow: 'block' });
      const reject = makeBus().topic<number>('r', { capacity: 2, groups: ['g'], overflow: 'reject' });
      const grow = makeBus().topic<number>('g', { capacity: 2, groups: ['g'], overflow: 'grow', growthFactor: 2, maxCapacity: 4 });
      for (const [t, n] of [[block, 2], [reject, 2], [grow, 4]] as const) {
        for (let i = 0; i < n; i++) expect(t.tryPublish(i), t.name).toBe(true);
        expect(t.tryPublish(n), t.name).toBe(false);
        t.consumer({ group: 'g' }).tryRecv()!.ack();
        expect(t.tryPublish(n), t.name).toBe(true);
      }
      expect([block.stats().rejected, reject.stats().rejected, grow.stats().rejected]).toEqual([0, 1, 1]);
    });

    it('block: waiting publishers go in once the ring has drained to half its capacity (low-water mark)', async () => {
      const t = makeBus().topic<number>('t', { capacity: 8, groups: ['g'] });
      for (let i = 0; i < 8; i++) t.tryPublish(i);
      const p = t.publish(8);
      const c = t.consumer({ group: 'g', prefetch: 8 });
      for (let i = 0; i < 3; i++) c.tryRecv()?.ack();
      expect(await isPending(p)).toBe(true); // 5 still needed: above the mark, and the consumer has more to take
      expect(t.tryPublish(99)).toBe(false); // no queue jumping meanwhile
      c.tryRecv()?.ack();
      expect(await p).toBe(8); // 4 needed: at the mark
      expect(t.stats()).toMatchObject({ tail: 9, published: 9 });
    });

    it('block: a consumer that finds nothing to take admits waiting publishers at once', async () => {
      const t = makeBus().topic<number>('t', { capacity: 8, groups: ['g'] });
      for (let i = 0; i < 8; i++) t.tryPublish(i);
      const p = t.publish(8);
      const c = t.consumer({ group: 'g', prefetch: 8 });
      const held: Delivery<number>[] = [];
      for (let d = c.tryRecv(); d; d = c.tryRecv()) held.push(d);
      expect(held.map((d) => d.value)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]); // the ring was full: nothing could go in
      held.slice(0, 3).forEach((d) => d.ack()); // 5 still needed, but the consumer has nothing left to take
      expect(c.tryRecv()?.value).toBe(8);
      expect(await p).toBe(8);
    });

    it('block: an ack while a recv() waits admits waiting publishers at once', async () => {
      const t = makeBus().topic<number>('t', { capacity: 8, groups: ['g'] });
      for (let i = 0; i < 8; i++) t.tryPublish(i);
      const ps = [t.publish(8), t.publish(9)];
      const c = t.consumer({ group: 'g', prefetch: 16 });
      const held: Delivery<number>[] = [];
      for (let d = c.tryRecv(); d; d = c.tryRecv()) held.push(d);
      const r = c.recv();
      expect(await isPending(r)).toBe(true);
      held[0].ack(); // 7 still needed, far above the mark: the waiting recv is what lets 8 in
      expect((await r)?.value).toBe(8);
      expect(await ps[0]).toBe(8);
      expect(await isPending(ps[1])).toBe(true); // the ring is full again
    });

    it('block: a member of another group that goes hungry after other settles found nobody hungry admits waiting publishers', async () => {
      const t = makeBus().topic<number>('t', { capacity: 8, groups: ['a', 'b'] });
      for (let i = 0; i < 8; i++) t.tryPublish(i);
      const a = t.consumer({ group: 'a', prefetch: 16 });
      const b = t.consumer({ group: 'b', prefetch: 16 });
      const p = t.publish(8); // waits: both groups still need all 8
      const bs: Delivery<number>[] = [];
      for (let d = b.tryRecv(); d; d = b.tryRecv()) bs.push(d);
      bs[0].ack(); // 7 still needed by b and nobody hungry: 8 keeps waiting
      expect(await isPending(p)).toBe(true);
      const as: Delivery<number>[] = [];
      for (let d = a.tryRecv(); d; d = a.tryRecv()) as.push(d);
      as.slice(0, 7).forEach((d) => d.ack()); // settles past the mark for a, but b still needs 7
      expect(await isPending(p)).toBe(true);
      const r = a.recv(); // a has nothing left to take and waits: 8 goes in for it
      expect(await p).toBe(8);
      expect((await r)?.value).toBe(8);
      expect(t.stats().groups.b).toMatchObject({ committed: 1, lag: 8 });
    });

  });
}
