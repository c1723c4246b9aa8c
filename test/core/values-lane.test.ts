import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/index.js';
import type { ConsumerPort } from '../../src/internal/faces/port.js';
import type { TopicImpl } from '../../src/internal/memory/topic.js';

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

describe('values() direct hand-off at publish', () => {
  it('four subscribers each see every value in order, also values published from inside a subscriber', () => {
    const t = createBus().topic<number>('t', { capacity: 4 });
    const seen: number[][] = [[], [], [], []];
    seen.forEach((s, k) =>
      t.values().subscribe((v) => {
        s.push(v);
        if (k === 1 && v % 10 === 0 && v < 1000) t.tryPublish(v + 1000); // re-entrant, from the second subscriber
      }),
    );
    for (let i = 0; i < 100; i++) t.tryPublish(i);
    const want: number[] = [];
    for (let i = 0; i < 100; i++) want.push(i, ...(i % 10 === 0 ? [i + 1000] : []));
    for (const s of seen) expect(s).toEqual(want);
    for (const g of Object.values(t.stats().groups)) expect(g).toMatchObject({ pending: 0, acked: want.length });
  });

  it('unsubscribing inside a direct hand-off returns that message to a durable group', () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    const got: number[] = [];
    const sub = t.values({ group: 'g' }).subscribe((v) => {
      got.push(v);
      if (v === 2) sub.unsubscribe();
    });
    for (let i = 1; i <= 3; i++) t.tryPublish(i);
    expect(got).toEqual([1, 2]);
    const d = t.consumer({ group: 'g' }).tryRecv()!;
    expect([d.value, d.deliveryCount]).toEqual([2, 2]);
  });

  it('a sink that throws during a hand-off: the publisher does not see it, the face gets it, the message returns', () => {
    const { t, p } = port('g');
    let caught: unknown;
    const sink = {
      closed: false,
      next(v: number) {
        if (v === 2) throw new Error('boom');
      },
    };
    p.onReady = {
      ready() {
        try {
          p.drainValues?.(sink);
        } catch (e) {
          caught = e;
          p.close();
        }
      },
    };
    p.drainValues?.(sink); // attaches the sink: publishes now hand off directly
    expect(t.tryPublish(1)).toBe(true);
    expect(() => t.tryPublish(2)).not.toThrow();
    expect((caught as Error).message).toBe('boom');
    expect(t.stats().groups.g).toMatchObject({ members: 0, committed: 1, acked: 1, nacked: 1 });
    const d = t.consumer({ group: 'g' }).tryRecv()!;
    expect([d.value, d.deliveryCount]).toEqual([2, 2]);
  });
});

describe('messages() direct hand-off at publish', () => {
  it('a subscriber that throws during a hand-off: the publisher does not see it, the face gets it, the delivery returns', () => {
    const { t, p } = port('g');
    let caught: unknown;
    const sink = {
      closed: false,
      next(d: { value: number }) {
        if (d.value === 2) throw new Error('boom');
      },
    };
    p.onReady = {
      ready() {
        try {
          while (p.tryRecv() !== undefined);
        } catch (e) {
          caught = e;
          p.close();
        }
      },
    };
    p.attachDeliveries?.(sink as never);
    expect(t.tryPublish(1)).toBe(true);
    expect(() => t.tryPublish(2)).not.toThrow();
    expect((caught as Error).message).toBe('boom');
    expect(t.stats().groups.g).toMatchObject({ members: 0, delivered: 2, pending: 2 });
    const c = t.consumer({ group: 'g' });
    expect([c.tryRecv(), c.tryRecv()].map((d) => [d?.value, d?.deliveryCount])).toEqual([
      [1, 2],
      [2, 2],
    ]);
  });
});
