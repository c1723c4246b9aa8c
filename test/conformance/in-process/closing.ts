import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/index.js';
import { isPending } from '../../helpers.js';
import type { MakeBus } from './index.js';

export function closingInProcess(makeBus: MakeBus): void {
  describe('closing, aborts and errors', () => {
    it("recv's ready path keeps the rules: behind waiting recvs, within the prefetch window, nothing for a closed or aborted consumer", async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      const c = t.consumer({ group: 'g', prefetch: 1 });
      t.tryPublish(1);
      const d1 = await c.recv(); // ready: taken at the call
      expect(d1?.value).toBe(1);
      t.tryPublish(2);
      t.tryPublish(3);
      const p = c.recv(); // a message is there, but the window is full: waits
      const q = c.recv(); // and q queues behind p
      expect(await isPending(p)).toBe(true);
      expect(await isPending(q)).toBe(true);
      d1?.ack();
      const d2 = await p;
      expect(d2?.value).toBe(2);
      expect(await isPending(q)).toBe(true); // the window holds 2
      d2?.ack();
      const d3 = await q;
      expect(d3?.value).toBe(3);
      d3?.ack();

      const closed = t.consumer({ group: 'g' });
      closed.close();
      t.tryPublish(4);
      expect(await closed.recv()).toBeUndefined();

      const ac = new AbortController();
      const aborted = t.consumer({ group: 'g', signal: ac.signal });
      ac.abort(new Error('stop'));
      await expect(aborted.recv()).rejects.toThrow('stop');
      expect(c.tryRecv()?.value).toBe(4); // neither took it
    });

    it('recvBatch waits for at least one, then returns up to max', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      const c = t.consumer({ group: 'g' });
      const p = c.recvBatch(3);
      expect(await isPending(p)).toBe(true);
      await t.publishBatch([1, 2, 3, 4]);
      expect((await p).map((d) => d.value)).toEqual([1, 2, 3]);
      expect((await c.recvBatch(10)).map((d) => d.value)).toEqual([4]);
    });

    it('recvBatch: redeliveries first, then a run of new messages, within prefetch; each delivery settles on its own', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([0, 1, 2, 3, 4, 5, 6, 7]);
      const c = t.consumer({ group: 'g', prefetch: 5 });
      const [d0, d1] = await c.recvBatch(2);
      d0.nack();
      const batch = await c.recvBatch(10);
      expect(batch.map((d) => [d.value, d.deliveryCount])).toEqual([[0, 2], [2, 1], [3, 1], [4, 1]]); // d1 still held: 5 in all
      batch[1].ack();
      expect(batch[1].ack()).toBe(false); // settling twice is a no-op, and touches no other delivery of the batch
      expect(batch[2].settled).toBe(false);
      batch[3].nack();
      d1.ack();
      expect((await c.recvBatch(10)).map((d) => d.value)).toEqual([4, 5, 6]);
      expect(t.stats().groups.g).toMatchObject({ pending: 5, acked: 2, nacked: 2 });
    });

    it('recvBatch on a consumer closed while it resolves claims nothing more for it', async () => {
      // maxDeliveries 1: what the close returns is dropped, not queued for redelivery
      const t = makeBus().topic<number>('t', { groups: ['g'], maxDeliveries: 1 });
      const c = t.consumer({ group: 'g' });
      const p = c.recvBatch(10); // nothing ready: it waits for the first, then takes what is ready
      void t.publishBatch([0, 1, 2, 3]); // the first is handed to the waiting batch now, the rest after a microtask
      c.close(); // returns what it holds
      expect((await p).map((d) => d.value)).toEqual([0]);
      expect(t.stats().groups.g).toMatchObject({ members: 0, pending: 0, delivered: 1, deadLettered: 1 });
      const again = t.consumer({ group: 'g' });
      expect((await again.recvBatch(10)).map((d) => [d.value, d.deliveryCount])).toEqual([[1, 1], [2, 1], [3, 1]]);
    });

    it('recvBatch claims what is ready at the call (a close right after returns it all) and refuses a bad max at once', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([0, 1, 2, 3]);
      const c = t.consumer({ group: 'g' });
      await expect(c.recvBatch(0)).rejects.toThrow(ConfigError); // a rejected promise, never a synchronous throw
      await expect(c.recvBatch(1.5)).rejects.toThrow(ConfigError);
      const p = c.recvBatch(3);
      expect(t.stats().groups.g).toMatchObject({ next: 3, pending: 3 });
      c.close();
      const batch = await p;
      expect(batch.map((d) => d.value)).toEqual([0, 1, 2]);
      expect(batch.every((d) => d.settled)).toBe(true); // returned by the close: stale, settling them is a no-op
      const again = t.consumer({ group: 'g' });
      expect((await again.recvBatch(10)).map((d) => [d.value, d.deliveryCount])).toEqual([[0, 2], [1, 2], [2, 2], [3, 1]]);
    });

    it('recvBatch: a filter throwing midway hands over what the batch already claimed; the next take raises it', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([0, 1, 2, 3]);
      const filter = (m: { value: number }): boolean => {
        if (m.value === 2) throw new Error('filter failed on 2');
        return true;
      };
      const c = t.consumer({ group: 'g', filter });
      const batch = await c.recvBatch(10);
      expect(batch.map((d) => d.value)).toEqual([0, 1]);
      await expect(c.recvBatch(10)).rejects.toThrow('filter failed on 2');
      batch.forEach((d) => d.ack());
      expect(t.stats().groups.g).toMatchObject({ committed: 2, acked: 2 });
    });

    it('publishBatch into a full ring takes the slots its groups have settled, then waits for the rest', async () => {
      const t = makeBus().topic<number>('t', { capacity: 4, groups: ['g'] });
      await t.publishBatch([0, 1, 2, 3]);
      const c = t.consumer({ group: 'g', prefetch: 10 });
      c.commit(2); // 0 and 1 are settled: room for two
      const p = t.publishBatch([4, 5, 6, 7]);
      expect(t.stats()).toMatchObject({ head: 2, tail: 6, size: 4 });
      expect(await isPending(p)).toBe(true);
      const got: number[] = [];
      while (got.length < 6) for (const d of await c.recvBatch(10)) (got.push(d.value), d.ack());
      expect(await p).toEqual([4, 5, 6, 7]);
      expect(got).toEqual([2, 3, 4, 5, 6, 7]);
    });

  });
}
