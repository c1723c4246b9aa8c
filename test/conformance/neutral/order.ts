import { describe, expect } from 'vitest';
import type { Test } from './index.js';

export function orderNeutral(test: Test): void {
  describe('delivery order', () => {
    test(
      'delayMs: the offset is taken at publish; no group gets the message before its time, then it goes out as a first delivery',
      async (k) => {
        const t = k.bus().topic<string>('t', { groups: ['g'] });
        expect(await t.publish('late', { delayMs: k.ms(8) })).toBe(0);
        expect(await t.publish('now')).toBe(1);
        const c = t.consumer({ group: 'g' });
        const now = await k.take(c);
        expect(now.value).toBe('now');
        now.ack();
        await k.expectNone(c);
        await k.clock.advance(3);
        await k.expectNone(c);
        await k.clock.advance(7);
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
        await t.publish(0, { delayMs: k.ms(10) });
        await t.publish(1, { delayMs: k.ms(5) });
        await t.publish(2, { delayMs: k.ms(5) });
        const c = t.consumer({ group: 'g' });
        await k.clock.advance(7);
        expect((await k.collect(c, 2)).map((d) => d.value)).toEqual([1, 2]);
        await k.expectNone(c);
        await k.clock.advance(5);
        expect((await k.take(c)).value).toBe(0);
      },
      ['delayMs'],
    );
  });
}
