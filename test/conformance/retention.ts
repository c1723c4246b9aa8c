import { describe, expect, it } from 'vitest';
import { type Delivery, TopicFullError } from '../../src/index.js';
import { isPending, settle, virtualTime } from '../helpers.js';
import type { MakeBus } from './index.js';

export function retentionSuite(makeBus: MakeBus): void {
  describe('retention and overflow', () => {
    it('capacity 5, ten publishes, no group: a new group from earliest starts at offset 5', async () => {
      const t = makeBus().topic<number>('t', { capacity: 5 });
      for (let i = 0; i < 10; i++) expect(t.tryPublish(i)).toBe(true);
      expect(t.stats()).toMatchObject({ size: 5, head: 5, tail: 10, published: 10 });
      const c = t.consumer({ group: 'late', from: 'earliest' });
      const d = c.tryRecv();
      expect(d?.offset).toBe(5);
      expect(d?.value).toBe(5);
    });

    it('a topic with no group never blocks and keeps its last capacity messages', async () => {
      const t = makeBus().topic<number>('t', { capacity: 3, overflow: 'block' });
      for (let i = 0; i < 100; i++) expect(await t.publish(i)).toBe(i);
      expect(t.stats()).toMatchObject({ size: 3, head: 97, tail: 100, dropped: 0 });
    });

    it('evicts the oldest message silently once every gating group has settled it', () => {
      const t = makeBus().topic<number>('t', { capacity: 2, groups: ['g'] });
      t.tryPublish(0);
      t.tryPublish(1);
      const c = t.consumer({ group: 'g' });
      c.tryRecv()?.ack();
      expect(t.tryPublish(2)).toBe(true);
      expect(t.stats()).toMatchObject({ head: 1, tail: 3, dropped: 0 });
    });

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

    it('block: tryPublish returns false and publish waits until an ack makes room; nothing is lost', async () => {
      const t = makeBus().topic<number>('t', { capacity: 2, groups: ['g'], overflow: 'block' });
      await t.publish(0);
      await t.publish(1);
      expect(t.tryPublish(2)).toBe(false);
      const p = t.publish(2);
      expect(await isPending(p)).toBe(true);
      const c = t.consumer({ group: 'g' });
      const d0 = c.tryRecv();
      expect(await isPending(p)).toBe(true); // a recv without ack frees nothing
      d0?.ack();
      expect(await p).toBe(2);
      const got: number[] = [];
      for (let d = c.tryRecv(); d; d = c.tryRecv()) {
        got.push(d.value);
        d.ack();
      }
      expect(got).toEqual([1, 2]);
      expect(t.stats()).toMatchObject({ dropped: 0, rejected: 0, published: 3 });
    });

    it('block: waiting publishers are admitted in order, and tryPublish does not jump the queue', async () => {
      const t = makeBus().topic<number>('t', { capacity: 1, groups: ['g'] });
      t.tryPublish(0);
      const order: number[] = [];
      const ps = [1, 2, 3].map((v) => t.publish(v).then((o) => order.push(o)));
      expect(t.tryPublish(99)).toBe(false);
      const c = t.consumer({ group: 'g' });
      const seen: number[] = [];
      for (let i = 0; i < 4; i++) {
        const d = await c.recv();
        seen.push(d!.value);
        d!.ack();
      }
      await Promise.all(ps);
      expect(seen).toEqual([0, 1, 2, 3]);
      expect(order).toEqual([1, 2, 3]);
    });

    it('block: publishBatch waits for room and keeps order', async () => {
      const t = makeBus().topic<number>('t', { capacity: 2, groups: ['g'] });
      const p = t.publishBatch([0, 1, 2, 3]);
      expect(await isPending(p)).toBe(true);
      const c = t.consumer({ group: 'g' });
      const seen: number[] = [];
      while (seen.length < 4) {
        const d = await c.recv();
        seen.push(d!.value);
        d!.ack();
      }
      expect(await p).toEqual([0, 1, 2, 3]);
      expect(seen).toEqual([0, 1, 2, 3]);
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

    it('block: a push subscriber keeping a sliding window of unacked messages wider than half the capacity never stalls', async () => {
      const t = makeBus().topic<number>('t', { capacity: 8, groups: ['g'] });
      const window: Delivery<number>[] = [];
      const seen: number[] = [];
      t.messages({ group: 'g', prefetch: 8 }).subscribe((d) => {
        seen.push(d.value);
        window.push(d);
        if (window.length > 6) window.shift()?.ack(); // acks only when something newer arrives
      });
      for (let i = 0; i < 40; i++) await t.publish(i);
      expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i));
    });

    it('block: a readable() reader holding more than half the capacity unacked, waiting on read(), is never stalled', async () => {
      const t = makeBus().topic<number>('t', { capacity: 8, groups: ['g'] });
      const reader = t.readable({ group: 'g', prefetch: 8 }).getReader();
      const producer = (async () => {
        for (let i = 0; i < 30; i++) await t.publish(i);
      })();
      const window: Delivery<number>[] = [];
      const seen: number[] = [];
      while (seen.length < 30) {
        const r = await Promise.race([reader.read(), new Promise<'stalled'>((res) => setTimeout(() => res('stalled'), 500))]);
        expect(r, `stalled after ${seen.length} values`).not.toBe('stalled');
        if (r === 'stalled' || r.done) break;
        seen.push(r.value.value);
        window.push(r.value);
        if (window.length === 7) window.splice(0, 2).forEach((d) => d.ack()); // acks two only once it holds seven
      }
      await producer;
      expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => i));
    });

    it('reject: publish rejects with TopicFullError and tryPublish returns false, both counted', async () => {
      const t = makeBus().topic<number>('t', { capacity: 2, groups: ['g'], overflow: 'reject' });
      t.tryPublish(0);
      t.tryPublish(1);
      await expect(t.publish(2)).rejects.toBeInstanceOf(TopicFullError);
      expect(t.tryPublish(3)).toBe(false);
      expect(t.stats()).toMatchObject({ rejected: 2, size: 2, tail: 2 });
    });

    it('drop-oldest: evicts the oldest anyway; the group counts it missed, the topic dropped', () => {
      const t = makeBus().topic<number>('t', { capacity: 3, groups: ['g'], overflow: 'drop-oldest' });
      for (let i = 0; i < 5; i++) expect(t.tryPublish(i)).toBe(true);
      const s = t.stats();
      expect(s).toMatchObject({ head: 2, tail: 5, size: 3, dropped: 2 });
      expect(s.groups.g).toMatchObject({ missed: 2, committed: 2 });
      const c = t.consumer({ group: 'g' });
      expect(c.tryRecv()?.offset).toBe(2);
    });

    it('drop-oldest: a held delivery evicted becomes stale', () => {
      const t = makeBus().topic<number>('t', { capacity: 2, groups: ['g'], overflow: 'drop-oldest' });
      t.tryPublish(0);
      t.tryPublish(1);
      const c = t.consumer({ group: 'g' });
      const d = c.tryRecv()!;
      t.tryPublish(2);
      expect(d.ack()).toBe(false);
      expect(t.stats().groups.g).toMatchObject({ pending: 0, missed: 1 });
      expect(c.held).toBe(0);
    });

    it('grow: grows by growthFactor up to maxCapacity, then rejects; shrinks back when use falls', async () => {
      const t = makeBus().topic<number>('t', { capacity: 2, overflow: 'grow', growthFactor: 2, maxCapacity: 8, shrinkThreshold: 0.25, groups: ['g'] });
      for (let i = 0; i < 8; i++) expect(t.tryPublish(i)).toBe(true);
      expect(t.stats().capacity).toBe(8);
      expect(t.tryPublish(8)).toBe(false);
      await expect(t.publish(8)).rejects.toBeInstanceOf(TopicFullError);
      const c = t.consumer({ group: 'g' });
      for (let i = 0; i < 8; i++) c.tryRecv()?.ack();
      expect(t.stats().capacity).toBe(2);
      expect(t.tryPublish(9)).toBe(true);
      expect(t.stats().size).toBeLessThanOrEqual(2);
    });

    it('TTL: expired messages are never delivered, are removed and counted', () => {
      const vt = virtualTime();
      const t = makeBus({ scheduler: vt.scheduler }).topic<number>('t', { ttlMs: 100, groups: ['g'] });
      t.tryPublish(0);
      vt.advance(50);
      t.tryPublish(1);
      vt.advance(60); // 0 expired at 100, 1 expires at 150
      const c = t.consumer({ group: 'g' });
      const d = c.tryRecv();
      expect(d?.value).toBe(1);
      d?.ack();
      vt.advance(100); // 1 expires too, though acked: retention by TTL counts it at the topic
      expect(t.stats()).toMatchObject({ expired: 2, size: 0 });
      expect(t.stats().groups.g).toMatchObject({ expired: 1, acked: 1, pending: 0, committed: 2 });
    });

    it('TTL per publish: the message expires even when the topic has no TTL; the shorter wins', () => {
      const vt = virtualTime();
      const t = makeBus({ scheduler: vt.scheduler }).topic<string>('t', { ttlMs: 1000, groups: ['g'] });
      t.tryPublish('short', { ttlMs: 10 });
      t.tryPublish('long', { ttlMs: 5000 });
      t.tryPublish('plain');
      vt.advance(20);
      const c = t.consumer({ group: 'g' });
      expect(c.tryRecv()?.value).toBe('long');
      expect(c.tryRecv()?.value).toBe('plain');
      vt.advance(1000);
      expect(t.stats()).toMatchObject({ expired: 3, size: 0 });
      expect(t.stats().groups.g).toMatchObject({ expired: 3, pending: 0, committed: 3 });
    });

    it('TTL: an expired message frees room for a blocked publisher', async () => {
      const vt = virtualTime();
      const t = makeBus({ scheduler: vt.scheduler }).topic<number>('t', { capacity: 1, ttlMs: 10, groups: ['g'] });
      t.tryPublish(0);
      const p = t.publish(1);
      expect(await isPending(p)).toBe(true);
      vt.advance(11);
      expect(await p).toBe(1);
      await settle();
      expect(t.consumer({ group: 'g' }).tryRecv()?.value).toBe(1);
    });
  });
}
