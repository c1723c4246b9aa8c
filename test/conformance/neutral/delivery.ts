import { describe, expect } from 'vitest';
import type { Delivery } from '../../../src/index.js';
import type { Test } from './index.js';
import { turn } from './target.js';

export function deliveryNeutral(test: Test): void {
  describe('delivery', () => {
    test('first deliveries follow offset order', async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([10, 11, 12, 13]);
      const got = await k.collect(t.consumer({ group: 'g' }), 4);
      expect(got.map((d) => [d.offset, d.value, d.deliveryCount])).toEqual([
        [0, 10, 1],
        [1, 11, 1],
        [2, 12, 1],
        [3, 13, 1],
      ]);
    });

    test('a nacked message comes back before newer ones, with deliveryCount 2', async (k) => {
      const t = k.bus().topic<string>('t', { groups: ['g'] });
      await t.publishBatch(['a', 'b', 'c']);
      const c = t.consumer({ group: 'g' });
      const a = await k.take(c);
      const b = await k.take(c);
      b.nack();
      a.nack();
      const next = await k.collect(c, 3);
      expect(next.map((d) => [d.value, d.deliveryCount, d.redelivered])).toEqual([
        ['a', 2, true],
        ['b', 2, true],
        ['c', 1, false],
      ]);
      await k.expectNone(c);
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ nacked: 2, redelivered: 2, delivered: 5, acked: 3, pending: 0, committed: 3 }));
    });

    test('nack with delayMs holds the message back until the delay is over', async (k) => {
      const t = k.bus().topic<string>('t', { groups: ['g'] });
      await t.publishBatch(['a', 'b']);
      const c = t.consumer({ group: 'g' });
      const a = await k.take(c);
      a.nack({ delayMs: k.ms(8) });
      expect((await k.take(c)).value).toBe('b');
      await k.expectNone(c);
      // on a real clock each expectNone also lets time pass: 2 units plus two quiet waits leave
      // the 8-unit delay a margin of units even on a loaded machine
      await k.clock.advance(2);
      await k.expectNone(c);
      await k.clock.advance(7);
      const again = await k.take(c);
      expect([again.value, again.deliveryCount]).toEqual(['a', 2]);
    });

    test('a message is held by at most one member: two competing receivers split N with no duplicate and no loss', async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'], capacity: 64 });
      const N = k.volume;
      const a = t.consumer({ group: 'g', prefetch: 4 });
      const b = t.consumer({ group: 'g', prefetch: 4 });
      const seen = new Map<number, string>();
      const run = async (c: typeof a, name: string) => {
        for (;;) {
          const d = await c.recv();
          if (!d) return;
          expect(seen.has(d.value)).toBe(false);
          seen.set(d.value, name);
          if (d.value % 7 === 0) await turn();
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

    test('term settles as failed: dead-lettered with headers, never redelivered', async (k) => {
      const bus = k.bus();
      const t = bus.topic<string>('orders', { groups: ['g'], deadLetter: 'orders.dlq' });
      const dlq = bus.topic<string>('orders.dlq', { groups: ['audit'] });
      await t.publish('poison', { key: 'k1', headers: { trace: 'x' } });
      const c = t.consumer({ group: 'g' });
      expect((await k.take(c)).term('bad input')).toBe(true);
      const dl = await k.take(dlq.consumer({ group: 'audit' }));
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
      await k.expectNone(c);
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ deadLettered: 1, pending: 0, committed: 1 }));
    });

    test('maxDeliveries: delivered that many times without an ack, the message is dead-lettered', async (k) => {
      const bus = k.bus();
      const t = bus.topic<string>('t', { groups: ['g'], maxDeliveries: 3, deadLetter: 'dlq' });
      const dlq = bus.topic<string>('dlq', { groups: ['x'] });
      await t.publishBatch(['poison', 'fine']);
      const c = t.consumer({ group: 'g' });
      const counts: number[] = [];
      for (let i = 0; i < 4; i++) {
        const d = await k.take(c);
        if (d.value === 'poison') {
          counts.push(d.deliveryCount);
          d.nack();
        } else d.ack();
      }
      await k.expectNone(c);
      expect(counts).toEqual([1, 2, 3]);
      const dl = await k.take(dlq.consumer({ group: 'x' }));
      expect(dl.headers).toMatchObject({ 'x-dead-letter-reason': 'max-deliveries', 'x-original-offset': '0', 'x-deliveries': '3', 'x-original-topic': 't' });
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ deadLettered: 1, pending: 0, committed: 2, lag: 0 }));
    });

    test('with no dead-letter topic, a dead letter is dropped and counted', async (k) => {
      const t = k.bus().topic<string>('t', { groups: ['g'], maxDeliveries: 1 });
      await t.publish('x');
      const c = t.consumer({ group: 'g' });
      (await k.take(c)).nack();
      await k.expectNone(c);
      await k.eventually(() => {
        expect(t.stats()).toMatchObject({ deadLetterDropped: 1 });
        expect(t.stats().groups.g).toMatchObject({ deadLettered: 1, committed: 1 });
      });
    });

    test('a dead-letter topic under block that is full holds the message pending until it has room', async (k) => {
      const bus = k.bus();
      const t = bus.topic<number>('t', { groups: ['g'], deadLetter: 'dlq' });
      const dlq = bus.topic<number>('dlq', { groups: ['x'], capacity: 1 });
      await t.publishBatch([1, 2]);
      const c = t.consumer({ group: 'g' });
      for (const d of await k.collect(c, 2, { ack: false })) d.term();
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ pending: 1, committed: 1 }));
      await k.expectNone(c);
      expect(t.stats().groups.g).toMatchObject({ pending: 1, committed: 1 }); // the second waits for room
      const x = dlq.consumer({ group: 'x' });
      (await k.take(x)).ack();
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ pending: 0, committed: 2 }));
      expect((await k.take(x)).value).toBe(2);
    });

    test('settling twice is a no-op', async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'] });
      await t.publish(1);
      const d = await k.take(t.consumer({ group: 'g' }));
      expect(d.settled).toBe(false);
      expect(d.ack()).toBe(true);
      expect(d.settled).toBe(true);
      expect(d.ack()).toBe(false);
      expect(d.nack()).toBe(false);
      expect(d.term()).toBe(false);
      expect(d.inProgress()).toBe(false);
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ acked: 1, nacked: 0, deadLettered: 0 }));
    });

    test('a delivery acked after later ones: the committed offset passes all of them at its ack', async (k) => {
      const t = k.bus().topic<string>('t', { groups: ['g'] });
      await t.publishBatch(['a', 'b', 'c', 'd']);
      const c = t.consumer({ group: 'g', prefetch: 3 });
      const [a, b, cc] = await k.collect(c, 3, { ack: false });
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ committed: 0, pending: 3, delivered: 3 }));
      expect(cc.ack()).toBe(true);
      expect(b.ack()).toBe(true);
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ committed: 0, pending: 1, acked: 2 }));
      expect(a.settled).toBe(false);
      expect(a.ack()).toBe(true);
      expect([a.settled, a.ack(), a.nack()]).toEqual([true, false, false]);
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ committed: 3, pending: 0, acked: 3 }));
      // the next one: nacked, it comes back first with its count
      (await k.take(c)).nack();
      const again = await k.take(c);
      expect([again.value, again.deliveryCount, again.redelivered]).toEqual(['d', 2, true]);
      expect(again.ack()).toBe(true);
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ committed: 4, pending: 0, acked: 4, nacked: 1 }));
    });

    test('a delivery held through a seek, a commit or a term is settled exactly as any other', async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([0, 1, 2, 3, 4]);
      const c = t.consumer({ group: 'g', prefetch: 1 });
      const d0 = await k.take(c);
      c.seek(0); // every outstanding delivery is stale, and the group starts over from 0
      expect([d0.settled, d0.ack()]).toEqual([true, false]);
      const r0 = await k.take(c);
      expect([r0.offset, r0.value]).toEqual([0, 0]);
      c.commit(1); // committing past it settles it
      expect([r0.settled, r0.ack()]).toEqual([true, false]);
      const d1 = await k.take(c);
      expect(d1.term('bad')).toBe(true);
      expect(d1.settled).toBe(true);
      expect((await k.collect(c, 3)).map((d) => d.value)).toEqual([2, 3, 4]);
      await k.expectNone(c);
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ committed: 5, pending: 0, deadLettered: 1 }));
    });

    test('a receiver closed while holding an unacked message: the next receiver gets it, and the old delivery is stale', async (k) => {
      const t = k.bus().topic<string>('t', { groups: ['g'] });
      await t.publish('job');
      const first = t.consumer({ group: 'g' });
      const d = await k.take(first);
      first.close();
      const again = await k.take(t.consumer({ group: 'g' }));
      expect([again.value, again.deliveryCount]).toEqual(['job', 2]);
      expect(d.ack()).toBe(false);
      expect(again.ack()).toBe(true);
    });

    test('closing a consumer wakes a waiting member with the returned message', async (k) => {
      const t = k.bus().topic<string>('t', { groups: ['g'] });
      const a = t.consumer({ group: 'g' });
      await t.publish('m');
      expect((await k.take(a)).value).toBe('m');
      const b = t.consumer({ group: 'g' });
      const waiter = k.recv(b);
      a.close();
      const got = await waiter;
      expect([got?.value, got?.deliveryCount]).toEqual(['m', 2]);
    });

    test('ack timeout redelivers an unsettled delivery; inProgress restarts the timer; an ack in time is final', async (k) => {
      const t = k.bus().topic<string>('t', { groups: ['g'], ackTimeoutMs: k.ms(10) });
      await t.publishBatch(['slow', 'quick']);
      const c = t.consumer({ group: 'g' });
      const [d, quick] = await k.collect(c, 2, { ack: false });
      await k.clock.advance(6);
      expect(quick.ack()).toBe(true);
      expect(d.inProgress()).toBe(true);
      await k.clock.advance(7); // 13: the first bound (12.5) has passed, the new deadline (16) has not
      expect(d.settled).toBe(false);
      await k.expectNone(c);
      await k.clock.advance(12); // 25: past 6 + 1.25 x 10
      await k.eventually(() => expect(d.settled).toBe(true));
      const again = await k.take(c);
      expect([again.value, again.deliveryCount]).toEqual(['slow', 2]);
      expect(d.ack()).toBe(false);
      expect(again.ack()).toBe(true);
      await k.clock.advance(14); // past its own bound: acked, it never comes back
      await k.expectNone(c);
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ acked: 2, redelivered: 1, pending: 0, committed: 2 }));
    });

    test('using: a Delivery disposed unsettled is nacked', async (k) => {
      const t = k.bus().topic<string>('t', { groups: ['g'] });
      await t.publish('x');
      const c = t.consumer({ group: 'g' });
      {
        using d = await k.take(c);
        expect(d.value).toBe('x');
      }
      const again = await k.take(c);
      expect(again.deliveryCount).toBe(2);
      {
        using d2 = again;
        d2.ack();
      }
      await k.expectNone(c);
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ acked: 1, nacked: 1 }));
    });

    test("ack: 'auto' settles at hand-out (at-most-once)", async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'] });
      await t.publish(1);
      const d = await k.take(t.consumer({ group: 'g', ack: 'auto' }));
      expect(d.settled).toBe(true);
      expect(d.nack()).toBe(false);
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ committed: 1, pending: 0, acked: 1 }));
    });

    test('prefetch bounds the unsettled deliveries one consumer holds', async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const c = t.consumer({ group: 'g', prefetch: 3 });
      const held = await k.collect(c, 3, { ack: false });
      await k.expectNone(c);
      expect(c.held).toBe(3);
      held[0].ack();
      expect((await k.take(c)).value).toBe(3);
    });

    test('a message published without key or headers after keyed ones reads neither (single and batch publishes)', async (k) => {
      const t = k.bus().topic<number>('t', { capacity: 4, groups: ['g'] });
      const c = t.consumer({ group: 'g', prefetch: 16 });
      const seen: [number, string | undefined, object][] = [];
      const take = async (n: number): Promise<void> => {
        for (const d of await k.collect(c, n)) seen.push([d.value, d.key, d.headers]);
      };
      await t.publishBatch([0, 1, 2, 3]);
      await take(4);
      await t.publish(4, { key: 'k4', headers: { h: '4' } }); // slot 0 of 4 now holds a keyed message
      await t.publishBatch([5, 6, 7]);
      await take(4);
      await t.publishBatch([8, 9, 10, 11]); // a batch run over slot 0
      await take(4);
      await t.publish(12, { key: 'k12', headers: { h: '12' } }); // slot 0 keyed again
      await t.publishBatch([13, 14, 15]);
      await take(4);
      await t.publish(16); // a single publish over slot 0
      await take(1);
      expect(seen.map(([v]) => v)).toEqual(Array.from({ length: 17 }, (_, i) => i));
      expect(seen.filter(([, key]) => key !== undefined)).toEqual([
        [4, 'k4', { h: '4' }],
        [12, 'k12', { h: '12' }],
      ]);
      expect(seen.filter(([v, , h]) => v !== 4 && v !== 12 && Object.keys(h).length > 0)).toEqual([]);
    });

    test('two groups each see everything', async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['a', 'b'] });
      await t.publishBatch([1, 2, 3]);
      for (const group of ['a', 'b']) {
        const c = t.consumer({ group });
        expect((await k.collect(c, 3)).map((d) => d.value)).toEqual([1, 2, 3]);
        await k.expectNone(c);
      }
    });

    test("a consumer's filter: rejected messages are settled and do not hold the group's lag", async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([1, 2, 3, 4, 5, 6]);
      const c = t.consumer({ group: 'g', filter: (m) => m.value % 2 === 0 });
      expect((await k.collect(c, 3)).map((d: Delivery<number>) => d.value)).toEqual([2, 4, 6]);
      await k.expectNone(c);
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ lag: 0, committed: 6 }));
    });

    test(
      "a consumer's filter: what it rejects is counted as filtered, not acked",
      async (k) => {
        const t = k.bus().topic<number>('t', { groups: ['g'] });
        await t.publishBatch([1, 2, 3, 4, 5, 6]);
        const c = t.consumer({ group: 'g', filter: (m) => m.value % 2 === 0 });
        await k.collect(c, 3);
        await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ lag: 0, committed: 6, filtered: 3, acked: 3 }));
      },
      ['filter:counted'],
    );
  });
}
