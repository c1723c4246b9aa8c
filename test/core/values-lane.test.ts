import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/index.js';
import type { ConsumerPort } from '../../src/internal/port.js';
import type { TopicImpl } from '../../src/internal/topic.js';

/**
 * The `values()` lane: a caught-up member takes the next message without slot state while the
 * synchronous downstream holds it. These drive the port directly, with sinks RxJS never gives
 * (a `next` that throws), to pin down what the lane promises.
 */
function port(group?: string): { t: TopicImpl<number>; p: ConsumerPort<number> } {
  const t = createBus().topic<number>('t', group === undefined ? {} : { groups: [group] }) as unknown as TopicImpl<number>;
  return { t, p: t.open(group === undefined ? {} : { group }) };
}

describe('values() lane', () => {
  it('a sink whose next throws gets the error back; the message returns to the group with its delivery counted', () => {
    const { t, p } = port('g');
    t.tryPublish(1);
    t.tryPublish(2);
    const seen: number[] = [];
    const sink = {
      closed: false,
      next(v: number) {
        seen.push(v);
        if (v === 2) throw new Error('boom');
      },
    };
    expect(() => p.drainValues?.(sink)).toThrow('boom');
    expect(seen).toEqual([1, 2]);
    expect(t.stats().groups.g).toMatchObject({ committed: 1, pending: 1, acked: 1, nacked: 1, delivered: 2 });
    p.close();
    const d = t.consumer({ group: 'g' }).tryRecv()!;
    expect([d.value, d.deliveryCount, d.redelivered]).toEqual([2, 2, true]);
  });

  it('while the downstream holds the message it is pending and retained; a publish inside waits its turn', () => {
    const { t, p } = port();
    const order: number[] = [];
    const during: object[] = [];
    const sink = {
      closed: false,
      next(v: number) {
        order.push(v);
        const s = t.stats();
        during.push({ pending: Object.values(s.groups)[0].pending, size: s.size });
        if (v < 3) t.tryPublish(v + 1); // re-entrant: goes out after this one returns, not inside it
        order.push(-v);
      },
    };
    t.tryPublish(1);
    expect(p.drainValues?.(sink)).toBe(true);
    expect(order).toEqual([1, -1, 2, -2, 3, -3]);
    expect(during).toEqual([
      { pending: 1, size: 1 },
      { pending: 1, size: 2 },
      { pending: 1, size: 3 },
    ]);
    expect(Object.values(t.stats().groups)[0]).toMatchObject({ pending: 0, acked: 3, committed: 3 });
  });

  it('a seek inside the downstream makes the held message stale: it is delivered again from the new position', () => {
    const { t, p } = port('g');
    t.tryPublish(0);
    t.tryPublish(1);
    const seen: number[] = [];
    let sought = false;
    const sink = {
      closed: false,
      next(v: number) {
        seen.push(v);
        if (v === 1 && !sought) {
          sought = true;
          t.consumer({ group: 'g' }).seek(0);
        }
      },
    };
    p.drainValues?.(sink);
    expect(seen).toEqual([0, 1, 0, 1]);
  });
});
