import { describe, expect } from 'vitest';
import type { Test } from './index.js';

export function orderNeutral(test: Test): void {
  describe('delivery order', () => {
    test(
      'delayMs: the offset is taken at publish; no group gets the message before its time, then it goes out as a first delivery',
      async (k) => {
        const t = k.bus().topic<string>('t', { groups: ['g'] });
        expect(await t.publish('late', { delayMs: k.ms(20) })).toBe(0);
        expect(await t.publish('now')).toBe(1);
        const c = t.consumer({ group: 'g' });
        const now = await k.take(c);
        expect(now.value).toBe('now');
        now.ack();
        await k.expectNone(c);
        await k.clock.advance(22);
        const late = await k.take(c);
        expect([late.value, late.offset, late.deliveryCount]).toEqual(['late', 0, 1]);
        late.ack();
        await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ committed: 2, lag: 0 }));
      },
      ['delayMs'],
    );

    test(
      'delayMs: messages due together go out in offset order',
      async (k) => {
        const t = k.bus().topic<number>('t', { groups: ['g'] });
        await t.publish(0, { delayMs: k.ms(30) });
        await t.publish(1, { delayMs: k.ms(5) });
        await t.publish(2, { delayMs: k.ms(5) });
        const c = t.consumer({ group: 'g' });
        await k.clock.advance(7);
        expect((await k.collect(c, 2)).map((d) => d.value)).toEqual([1, 2]);
        await k.expectNone(c);
        await k.clock.advance(25);
        expect((await k.take(c)).value).toBe(0);
      },
      ['delayMs'],
    );

    test(
      'priorities: redeliveries first, then highest level first, offset order within a level; maxConsecutive steps down',
      async (k) => {
        const t = k.bus().topic<string>('t', { priorities: 3, groups: ['g'] });
        await t.publishBatch([{ value: 'a1', priority: 1 }, { value: 'b0', priority: 0 }, { value: 'c2', priority: 2 }, { value: 'd' }, { value: 'e2', priority: 2 }], { entries: true });
        const c = t.consumer({ group: 'g' });
        const first = await k.take(c);
        expect(first.value).toBe('c2');
        first.nack();
        expect((await k.collect(c, 5)).map((d) => `${d.value}@${d.deliveryCount}`)).toEqual(['c2@2', 'e2@1', 'a1@1', 'd@1', 'b0@1']);
        const fair = k.bus().topic<string>('fair', { priorities: 2, maxConsecutive: 2, groups: ['g'] });
        await fair.publishBatch(['h0', 'h1', 'h2', 'h3'], { priority: 1 });
        await fair.publishBatch(['l0', 'l1'], { priority: 0 });
        expect((await k.collect(fair.consumer({ group: 'g' }), 6)).map((d) => d.value)).toEqual(['h0', 'h1', 'l0', 'h2', 'h3', 'l1']);
      },
      ['priorities'],
    );

    test(
      "ordering: 'key': a later message of a key waits while an earlier one is unsettled in the group (even nacked); other keys go on",
      async (k) => {
        const t = k.bus().topic<string>('t', { ordering: 'key', groups: ['g'] });
        await t.publishBatch([{ value: 'a0', key: 'a' }, { value: 'a1', key: 'a' }, { value: 'b0', key: 'b' }], { entries: true });
        const m1 = t.consumer({ group: 'g', prefetch: 10 });
        const a0 = await k.take(m1);
        expect(a0.value).toBe('a0');
        expect((await k.take(m1)).value).toBe('b0');
        await k.expectNone(m1); // a1 waits for a0, though the member has room
        a0.nack();
        const again = await k.take(m1);
        expect([again.value, again.deliveryCount]).toEqual(['a0', 2]);
        again.ack();
        expect((await k.take(m1)).value).toBe('a1');
      },
      ['ordering'],
    );
  });
}
