import { describe, expect, it, vi } from 'vitest';
import type { Delivery } from '../../src/index.js';
import { settle, virtualTime } from '../helpers.js';
import type { MakeBus } from './index.js';

function drain<T>(c: { tryRecv(): Delivery<T> | undefined }, ack = true): Delivery<T>[] {
  const out: Delivery<T>[] = [];
  for (let d = c.tryRecv(); d; d = c.tryRecv()) {
    out.push(d);
    if (ack) d.ack();
  }
  return out;
}

export function deliverySuite(makeBus: MakeBus): void {
  describe('delivery', () => {
    it('first deliveries follow offset order', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([10, 11, 12, 13]);
      const got = drain(t.consumer({ group: 'g' }));
      expect(got.map((d) => [d.offset, d.value, d.deliveryCount])).toEqual([
        [0, 10, 1],
        [1, 11, 1],
        [2, 12, 1],
        [3, 13, 1],
      ]);
    });

    it('a nacked message comes back before newer ones, with deliveryCount 2', async () => {
      const t = makeBus().topic<string>('t', { groups: ['g'] });
      await t.publishBatch(['a', 'b', 'c']);
      const c = t.consumer({ group: 'g' });
      const a = c.tryRecv()!;
      const b = c.tryRecv()!;
      b.nack();
      a.nack();
      const next = drain(c);
      expect(next.map((d) => [d.value, d.deliveryCount, d.redelivered])).toEqual([
        ['a', 2, true],
        ['b', 2, true],
        ['c', 1, false],
      ]);
      expect(t.stats().groups.g).toMatchObject({ nacked: 2, redelivered: 2, delivered: 5, acked: 3, pending: 0, committed: 3 });
    });

    it('nack with delayMs holds the message back until the delay is over', () => {
      const vt = virtualTime();
      const t = makeBus({ scheduler: vt.scheduler }).topic<string>('t', { groups: ['g'] });
      t.tryPublish('a');
      t.tryPublish('b');
      const c = t.consumer({ group: 'g' });
      c.tryRecv()!.nack({ delayMs: 100 });
      expect(c.tryRecv()?.value).toBe('b');
      expect(c.tryRecv()).toBeUndefined();
      vt.advance(99);
      expect(c.tryRecv()).toBeUndefined();
      vt.advance(1);
      const again = c.tryRecv();
      expect([again?.value, again?.deliveryCount]).toEqual(['a', 2]);
    });

    it('a message is held by at most one member: two competing receivers split N with no duplicate and no loss', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'], capacity: 64 });
      const N = 1000;
      const a = t.consumer({ group: 'g', prefetch: 4 });
      const b = t.consumer({ group: 'g', prefetch: 4 });
      const seen = new Map<number, string>();
      const run = async (c: typeof a, name: string) => {
        for (;;) {
          const d = await c.recv();
          if (!d) return;
          expect(seen.has(d.value)).toBe(false);
          seen.set(d.value, name);
          if (d.value % 7 === 0) await settle();
          d.ack();
        }
      };
      const ra = run(a, 'a');
      const rb = run(b, 'b');
      for (let i = 0; i < N; i++) await t.publish(i);
      await t.close();
      await Promise.all([ra, rb]);
      expect(seen.size).toBe(N);
      const counts = [...seen.values()].reduce((m, n) => ((m[n] = (m[n] ?? 0) + 1), m), {} as Record<string, number>);
      expect(counts.a).toBeGreaterThan(0);
      expect(counts.b).toBeGreaterThan(0);
    });

    it('term settles as failed: dead-lettered with headers, never redelivered', async () => {
      const bus = makeBus();
      const t = bus.topic<string>('orders', { groups: ['g'], deadLetter: 'orders.dlq' });
      const dlq = bus.topic<string>('orders.dlq', { groups: ['audit'] });
      t.tryPublish('poison', { key: 'k1', headers: { trace: 'x' } });
      const c = t.consumer({ group: 'g' });
      expect(c.tryRecv()!.term('bad input')).toBe(true);
      expect(c.tryRecv()).toBeUndefined();
      const dl = dlq.consumer({ group: 'audit' }).tryRecv()!;
      expect(dl.value).toBe('poison');
      expect(dl.key).toBe('k1');
      expect(dl.headers).toMatchObject({
        trace: 'x',
        'x-dead-letter-reason': 'terminated',
        'x-dead-letter-detail': 'bad input',
        'x-original-topic': 'orders',
        'x-original-offset': '0',
        'x-deliveries': '1',
      });
      // on a durable dead-letter topic the source settles once the copy is synced
      await vi.waitFor(() => expect(t.stats().groups.g).toMatchObject({ deadLettered: 1, pending: 0, committed: 1 }));
    });

    it('maxDeliveries: delivered that many times without an ack, the message is dead-lettered', async () => {
      const bus = makeBus();
      const t = bus.topic<string>('t', { groups: ['g'], maxDeliveries: 3, deadLetter: 'dlq' });
      const dlq = bus.topic<string>('dlq', { groups: ['x'] });
      t.tryPublish('poison');
      t.tryPublish('fine');
      const c = t.consumer({ group: 'g' });
      const counts: number[] = [];
      for (let i = 0; i < 10; i++) {
        const d = c.tryRecv();
        if (!d) break;
        if (d.value === 'poison') {
          counts.push(d.deliveryCount);
          d.nack();
        } else d.ack();
      }
      expect(counts).toEqual([1, 2, 3]);
      const dl = dlq.consumer({ group: 'x' }).tryRecv()!;
      expect(dl.headers).toMatchObject({ 'x-dead-letter-reason': 'max-deliveries', 'x-original-offset': '0', 'x-deliveries': '3', 'x-original-topic': 't' });
      await vi.waitFor(() => expect(t.stats().groups.g).toMatchObject({ deadLettered: 1, pending: 0, committed: 2, lag: 0 }));
    });

    it('with no dead-letter topic, a dead letter is dropped and counted', () => {
      const t = makeBus().topic<string>('t', { groups: ['g'], maxDeliveries: 1 });
      t.tryPublish('x');
      const c = t.consumer({ group: 'g' });
      c.tryRecv()!.nack();
      expect(c.tryRecv()).toBeUndefined();
      expect(t.stats()).toMatchObject({ deadLetterDropped: 1 });
      expect(t.stats().groups.g).toMatchObject({ deadLettered: 1, committed: 1 });
    });

    it('a dead-letter topic under block that is full holds the message pending until it has room', async () => {
      const bus = makeBus();
      const t = bus.topic<number>('t', { groups: ['g'], deadLetter: 'dlq' });
      const dlq = bus.topic<number>('dlq', { groups: ['x'], capacity: 1 });
      t.tryPublish(1);
      t.tryPublish(2);
      const c = t.consumer({ group: 'g' });
      c.tryRecv()!.term();
      c.tryRecv()!.term();
      await vi.waitFor(() => expect(t.stats().groups.g).toMatchObject({ pending: 1, committed: 1 }));
      await settle();
      expect(t.stats().groups.g).toMatchObject({ pending: 1, committed: 1 }); // the second waits for room
      const x = dlq.consumer({ group: 'x' });
      x.tryRecv()!.ack();
      await vi.waitFor(() => expect(t.stats().groups.g).toMatchObject({ pending: 0, committed: 2 }));
      expect(x.tryRecv()?.value).toBe(2);
    });

    it('settling twice is a no-op', () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      t.tryPublish(1);
      const d = t.consumer({ group: 'g' }).tryRecv()!;
      expect(d.settled).toBe(false);
      expect(d.ack()).toBe(true);
      expect(d.settled).toBe(true);
      expect(d.ack()).toBe(false);
      expect(d.nack()).toBe(false);
      expect(d.term()).toBe(false);
      expect(d.inProgress()).toBe(false);
      expect(t.stats().groups.g).toMatchObject({ acked: 1, nacked: 0, deadLettered: 0 });
    });

    it('a delivery taken while nothing else is outstanding, acked after later ones: the committed offset passes all of them at its ack', async () => {
      const t = makeBus().topic<string>('t', { groups: ['g'] });
      await t.publishBatch(['a', 'b', 'c', 'd']);
      const c = t.consumer({ group: 'g' });
      const a = c.tryRecv()!;
      expect(t.stats().groups.g).toMatchObject({ committed: 0, pending: 1, delivered: 1 });
      const b = c.tryRecv()!;
      const cc = c.tryRecv()!;
      expect(cc.ack()).toBe(true);
      expect(b.ack()).toBe(true);
      expect(t.stats().groups.g).toMatchObject({ committed: 0, pending: 1, acked: 2 });
      expect(a.settled).toBe(false);
      expect(a.ack()).toBe(true);
      expect([a.settled, a.ack(), a.nack()]).toEqual([true, false, false]);
      expect(t.stats().groups.g).toMatchObject({ committed: 3, pending: 0, acked: 3 });
      // the next one is again alone: nacked, it comes back first with its count
      c.tryRecv()!.nack();
      const again = c.tryRecv()!;
      expect([again.value, again.deliveryCount, again.redelivered]).toEqual(['d', 2, true]);
      expect(again.ack()).toBe(true);
      expect(t.stats().groups.g).toMatchObject({ committed: 4, pending: 0, acked: 4, nacked: 1 });
    });

    it('a delivery held alone through a seek, a commit or a term is settled exactly as any other', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([0, 1, 2, 3, 4]);
      const c = t.consumer({ group: 'g' });
      const d0 = c.tryRecv()!;
      c.seek(0); // every outstanding delivery is stale, and the group starts over from 0
      expect([d0.settled, d0.ack()]).toEqual([true, false]);
      const r0 = c.tryRecv()!;
      expect([r0.offset, r0.value]).toEqual([0, 0]);
      c.commit(1); // committing past it settles it
      expect([r0.settled, r0.ack()]).toEqual([true, false]);
      const d1 = c.tryRecv()!;
      expect(d1.term('bad')).toBe(true);
      expect(d1.settled).toBe(true);
      expect(drain(c).map((d) => d.value)).toEqual([2, 3, 4]);
      expect(t.stats().groups.g).toMatchObject({ committed: 5, pending: 0, deadLettered: 1 });
    });

    it('a receiver closed while holding an unacked message: the next receiver gets it, and the old delivery is stale', () => {
      const t = makeBus().topic<string>('t', { groups: ['g'] });
      t.tryPublish('job');
      const first = t.consumer({ group: 'g' });
      const d = first.tryRecv()!;
      first.close();
      const second = t.consumer({ group: 'g' });
      const again = second.tryRecv()!;
      expect([again.value, again.deliveryCount]).toEqual(['job', 2]);
      expect(d.ack()).toBe(false);
      expect(again.ack()).toBe(true);
    });

    it('closing a consumer wakes a waiting member with the returned message', async () => {
      const t = makeBus().topic<string>('t', { groups: ['g'] });
      const a = t.consumer({ group: 'g' });
      t.tryPublish('m');
      expect(a.tryRecv()?.value).toBe('m');
      const b = t.consumer({ group: 'g' });
      const waiter = b.recv();
      a.close();
      const got = await waiter;
      expect([got?.value, got?.deliveryCount]).toEqual(['m', 2]);
    });

    it('ack timeout redelivers an unsettled delivery (after ackTimeoutMs, within 1.25x); inProgress restarts the timer', () => {
      const vt = virtualTime();
      const t = makeBus({ scheduler: vt.scheduler }).topic<string>('t', { groups: ['g'], ackTimeoutMs: 100 });
      t.tryPublish('slow');
      const c = t.consumer({ group: 'g' });
      const d = c.tryRecv()!;
      vt.advance(80);
      expect(d.inProgress()).toBe(true);
      vt.advance(100); // 180: the first deadline (100..125) has passed, the new one (after 180) has not
      expect(d.settled).toBe(false);
      expect(c.tryRecv()).toBeUndefined();
      vt.advance(25); // 205 = 80 + 1.25 x 100
      expect(d.settled).toBe(true);
      const again = c.tryRecv()!;
      expect([again.value, again.deliveryCount]).toEqual(['slow', 2]);
      expect(d.ack()).toBe(false);
    });

    it('deliveries taken in a row but at different times each time out on their own clock (tryRecv and recvBatch)', async () => {
      for (const later of ['tryRecv', 'recvBatch'] as const) {
        const vt = virtualTime();
        const t = makeBus({ scheduler: vt.scheduler }).topic<number>('t', { groups: ['g'], ackTimeoutMs: 100 });
        await t.publishBatch([0, 1, 2]);
        const c = t.consumer({ group: 'g' });
        const first = c.tryRecv()!;
        vt.advance(60);
        const rest = later === 'tryRecv' ? [c.tryRecv()!] : await c.recvBatch(2);
        vt.advance(70); // 130: past the first one's bound (125), before the others' (160)
        expect(first.settled, later).toBe(true);
        expect(rest.map((d) => d.settled), later).toEqual(rest.map(() => false));
        vt.advance(60); // 190: past theirs (60 + 125)
        expect(rest.map((d) => d.settled), later).toEqual(rest.map(() => true));
        expect(t.stats().groups.g.pending, later).toBe(1 + rest.length); // returned, waiting for redelivery
      }
    });

    it('a delivery acked before its timeout is never returned, however many sweeps pass', () => {
      const vt = virtualTime();
      const t = makeBus({ scheduler: vt.scheduler }).topic<number>('t', { groups: ['g'], ackTimeoutMs: 40 });
      const c = t.consumer({ group: 'g' });
      for (let i = 0; i < 20; i++) {
        t.tryPublish(i);
        const d = c.tryRecv()!;
        vt.advance(39);
        expect(d.ack()).toBe(true);
      }
      vt.advance(1000);
      expect(t.stats().groups.g).toMatchObject({ acked: 20, redelivered: 0, pending: 0 });
    });

    it('ackTimeoutMs Infinity never redelivers', () => {
      const vt = virtualTime();
      const t = makeBus({ scheduler: vt.scheduler }).topic<string>('t', { groups: ['g'], ackTimeoutMs: Infinity });
      t.tryPublish('x');
      const c = t.consumer({ group: 'g' });
      const d = c.tryRecv()!;
      vt.advance(10_000_000);
      expect(d.settled).toBe(false);
      expect(c.tryRecv()).toBeUndefined();
    });

    it('using: a Delivery disposed unsettled is nacked', () => {
      const t = makeBus().topic<string>('t', { groups: ['g'] });
      t.tryPublish('x');
      const c = t.consumer({ group: 'g' });
      {
        using d = c.tryRecv()!;
        expect(d.value).toBe('x');
      }
      const again = c.tryRecv()!;
      expect(again.deliveryCount).toBe(2);
      {
        using d2 = again;
        d2.ack();
      }
      expect(c.tryRecv()).toBeUndefined();
      expect(t.stats().groups.g).toMatchObject({ acked: 1, nacked: 1 });
    });

    it("ack: 'auto' settles at hand-out (at-most-once)", () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      t.tryPublish(1);
      const c = t.consumer({ group: 'g', ack: 'auto' });
      const d = c.tryRecv()!;
      expect(d.settled).toBe(true);
      expect(d.nack()).toBe(false);
      expect(t.stats().groups.g).toMatchObject({ committed: 1, pending: 0, acked: 1 });
    });

    it('prefetch bounds the unsettled deliveries one consumer holds', () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      for (let i = 0; i < 10; i++) t.tryPublish(i);
      const c = t.consumer({ group: 'g', prefetch: 3 });
      const held = [c.tryRecv(), c.tryRecv(), c.tryRecv()];
      expect(c.tryRecv()).toBeUndefined();
      expect(c.held).toBe(3);
      held[0]!.ack();
      expect(c.tryRecv()?.value).toBe(3);
    });

    it('a message published without key or headers into a slot a keyed one held reads neither (single and batch publishes)', async () => {
      const t = makeBus().topic<number>('t', { capacity: 4, groups: ['g'] });
      const c = t.consumer({ group: 'g', prefetch: 16 });
      const seen: [number, string | undefined, object][] = [];
      const take = (): void => {
        for (const d of drain(c)) seen.push([d.value, d.key, d.headers]);
      };
      for (let i = 0; i < 4; i++) t.tryPublish(i);
      take();
      await t.publish(4, { key: 'k4', headers: { h: '4' } }); // slot 0 of 4 now holds a keyed message
      await t.publishBatch([5, 6, 7]);
      take();
      await t.publishBatch([8, 9, 10, 11]); // a batch run over slot 0
      take();
      await t.publish(12, { key: 'k12', headers: { h: '12' } }); // slot 0 keyed again
      for (let i = 13; i < 16; i++) t.tryPublish(i);
      take();
      t.tryPublish(16); // a single publish over slot 0
      take();
      expect(seen.map(([v]) => v)).toEqual(Array.from({ length: 17 }, (_, i) => i));
      expect(seen.filter(([, k]) => k !== undefined)).toEqual([
        [4, 'k4', { h: '4' }],
        [12, 'k12', { h: '12' }],
      ]);
      expect(seen.filter(([v, , h]) => v !== 4 && v !== 12 && Object.keys(h).length > 0)).toEqual([]);
    });

    it('two groups each see everything', async () => {
      const t = makeBus().topic<number>('t', { groups: ['a', 'b'] });
      await t.publishBatch([1, 2, 3]);
      expect(drain(t.consumer({ group: 'a' })).map((d) => d.value)).toEqual([1, 2, 3]);
      expect(drain(t.consumer({ group: 'b' })).map((d) => d.value)).toEqual([1, 2, 3]);
    });

    it("a consumer's filter: rejected messages are settled and do not hold the group's lag", async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([1, 2, 3, 4, 5, 6]);
      const c = t.consumer({ group: 'g', filter: (m) => m.value % 2 === 0 });
      expect(drain(c).map((d) => d.value)).toEqual([2, 4, 6]);
      expect(t.stats().groups.g).toMatchObject({ lag: 0, committed: 6, filtered: 3, acked: 3 });
    });

    it('publishing and acking from inside delivery callbacks is safe and does not reorder', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'], capacity: 16 });
      const seen: number[] = [];
      t.messages({ group: 'g' }).subscribe((d) => {
        seen.push(d.value);
        d.ack();
        if (d.value < 1000) t.tryPublish(d.value + 1);
      });
      t.tryPublish(0);
      expect(seen.length).toBe(1001);
      expect(seen.every((v, i) => v === i)).toBe(true);
    });
  });
}
