import { take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../../src/index.js';
import { virtualTime } from '../../helpers.js';
import type { MakeBus } from './index.js';

export function facesInProcess(makeBus: MakeBus): void {
  describe('faces', () => {
    it('messages(): prefetch is the backpressure', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([0, 1, 2, 3, 4, 5]);
      const got: Delivery<number>[] = [];
      t.messages({ group: 'g', prefetch: 2 }).subscribe((d) => got.push(d));
      expect(got.length).toBe(2);
      got[0].ack();
      expect(got.length).toBe(3);
      got[1].ack();
      got[2].ack();
      expect(got.map((d) => d.value)).toEqual([0, 1, 2, 3, 4]);
    });

    it('messages(): a subscriber that always nacks at once does not hang the thread; the redelivery comes on a later turn', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      t.tryPublish(1);
      t.tryPublish(2);
      const seen: string[] = [];
      const sub = t.messages({ group: 'g' }).subscribe((d) => {
        seen.push(`${d.value}:${d.deliveryCount}`);
        if (d.value === 1 && d.deliveryCount < 3) d.nack();
        else d.ack();
      });
      expect(seen).toEqual(['1:1']); // returned synchronously, redelivered on a later turn, before 2
      for (let i = 0; i < 10 && seen.length < 4; i++) await new Promise((r) => setTimeout(r, 1));
      expect(seen).toEqual(['1:1', '1:2', '1:3', '2:1']);
      sub.unsubscribe();
      expect(t.stats().groups.g).toMatchObject({ acked: 2, nacked: 2, pending: 0 });
    });

    it('messages(): a message published while a redelivery waits for its turn is not handed over before it', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      const seen: string[] = [];
      t.messages({ group: 'g' }).subscribe((d) => {
        seen.push(`${d.value}:${d.deliveryCount}`);
        if (d.value === 1 && d.deliveryCount === 1) d.nack();
        else d.ack();
      });
      t.tryPublish(1); // handed over at publish, nacked at once: parked for a later turn
      t.tryPublish(2);
      t.tryPublish(3);
      expect(seen).toEqual(['1:1']);
      for (let i = 0; i < 10 && seen.length < 4; i++) await new Promise((r) => setTimeout(r, 1));
      expect(seen).toEqual(['1:1', '1:2', '2:1', '3:1']);
      t.tryPublish(4); // and handed over at publish again afterwards
      expect(seen.at(-1)).toBe('4:1');
    });

    it('messages(): publishing from inside the subscriber, 100 000 deep, neither overflows the stack nor reorders', () => {
      const t = makeBus().topic<number>('t', { capacity: 8 });
      const N = 100_000;
      let expected = 0;
      let ok = true;
      t.messages().subscribe((d) => {
        if (d.value !== expected++) ok = false;
        d.ack();
        if (d.value < N - 1) t.tryPublish(d.value + 1);
      });
      t.tryPublish(0);
      expect(ok).toBe(true);
      expect(expected).toBe(N);
    });

    it('messages(): a subscriber holding its whole window gets nothing more until it settles', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      const got: Delivery<number>[] = [];
      t.messages({ group: 'g', prefetch: 2 }).subscribe((d) => got.push(d));
      for (let i = 0; i < 5; i++) t.tryPublish(i);
      expect(got.map((d) => d.value)).toEqual([0, 1]);
      got[1].ack(); // out of order: the window reopens, the floor stays at 0
      expect(got.map((d) => d.value)).toEqual([0, 1, 2]);
      got[0].ack();
      got[2].ack();
      expect(got.map((d) => d.value)).toEqual([0, 1, 2, 3, 4]);
      t.tryPublish(5);
      expect(got.map((d) => d.value)).toEqual([0, 1, 2, 3, 4]); // still a full window (3 and 4 held)
      expect(t.stats().groups.g).toMatchObject({ committed: 3, pending: 2, delivered: 5 });
    });

    it('messages(): deliveries arriving later are pushed as they are published', () => {
      const t = makeBus().topic<number>('t');
      const got: number[] = [];
      t.messages().subscribe((d) => {
        got.push(d.value);
        d.ack();
      });
      t.tryPublish(1);
      t.tryPublish(2);
      expect(got).toEqual([1, 2]);
    });

    it('values(): settles each value once the synchronous downstream returns', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([1, 2, 3]);
      const pendingDuring: number[] = [];
      t.values({ group: 'g' }).subscribe(() => pendingDuring.push(t.stats().groups.g.pending));
      expect(pendingDuring).toEqual([1, 1, 1]);
      expect(t.stats().groups.g).toMatchObject({ committed: 3, pending: 0, acked: 3 });
    });

    it('values(): unsubscribing from inside the downstream returns that message to a durable group', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      const got: number[] = [];
      const sub = t.values({ group: 'g' }).subscribe((v) => {
        got.push(v);
        if (v === 2) sub.unsubscribe();
      });
      await t.publishBatch([1, 2, 3]);
      expect(got).toEqual([1, 2]);
      expect(t.stats().groups.g).toMatchObject({ members: 0, committed: 1, pending: 1, acked: 1, next: 2 });
      const c = t.consumer({ group: 'g' });
      const d = c.tryRecv()!;
      expect([d.value, d.deliveryCount]).toEqual([2, 2]);
      expect(c.tryRecv()?.value).toBe(3);
    });

    it('values(): publishing from inside the subscriber, 100 000 deep, neither overflows the stack nor reorders', () => {
      const t = makeBus().topic<number>('t', { capacity: 8 });
      const N = 100_000;
      let expected = 0;
      let ok = true;
      t.values().subscribe((v) => {
        if (v !== expected++) ok = false;
        if (v < N - 1) t.tryPublish(v + 1);
      });
      t.tryPublish(0);
      expect(ok).toBe(true);
      expect(expected).toBe(N);
    });

    it("values({ ack: 'auto' }) with take(n): settled at hand-out, nothing returned", async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([1, 2, 3]);
      const got: number[] = [];
      t.values({ group: 'g', ack: 'auto' }).pipe(take(2)).subscribe((v) => got.push(v));
      expect(got).toEqual([1, 2]);
      expect(t.stats().groups.g).toMatchObject({ committed: 2, pending: 0 });
    });

    it('bus.stats() and bus.stats$(ms) report every topic on the scheduler', () => {
      const vt = virtualTime();
      const bus = makeBus({ scheduler: vt.scheduler });
      const t = bus.topic<number>('a', { groups: ['g'] });
      bus.topic<number>('b');
      t.tryPublish(1);
      expect(Object.keys(bus.stats().topics)).toEqual(['a', 'b']);
      expect(bus.stats().topics.a).toMatchObject({ published: 1, size: 1, groups: { g: { lag: 1 } } });
      const seen: number[] = [];
      const sub = bus.stats$(100).subscribe((s) => seen.push(s.topics.a.published));
      vt.advance(250);
      t.tryPublish(2);
      vt.advance(100);
      sub.unsubscribe();
      vt.advance(500);
      expect(seen).toEqual([1, 1, 2]);
    });
  });
}
