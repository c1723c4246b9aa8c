/**
 * Making room on a full `block`/`reject` topic removes only what every group has settled, and
 * leaves every group's held deliveries pending on the server: a nacked or timed-out delivery is
 * redelivered. (On nats-server 2.9.10 a stream purge up to a sequence clears every consumer's
 * pending deliveries, so a held message would never come back.)
 */
import { describe, expect, it } from 'vitest';
import { createBus, type Delivery } from '../../src/index.js';
import { natsEngine } from '../../src/nats/index.js';
import { NATS_URL, nats, prefixPerTest, settledOn } from './service.js';

const prefix = prefixPerTest();

/** Receives from `group` until nothing comes for `quietMs`, acking each: [value, deliveryCount] in arrival order. */
async function drain(c: { recvTimeout(ms: number): Promise<Delivery<number> | undefined> }, quietMs: number): Promise<[number, number][]> {
  const got: [number, number][] = [];
  for (;;) {
    const d = await c.recvTimeout(quietMs);
    if (d === undefined) return got;
    got.push([d.value, d.deliveryCount]);
    expect(d.ack()).toBe(true);
  }
}

describe.skipIf(!nats.available)(`making room on a full topic${nats.available ? '' : ` (${nats.reason})`}`, () => {
  for (const overflow of ['block', 'reject'] as const) {
    it(`${overflow}: removing the settled head keeps every group's held deliveries pending, so they are redelivered after a nack or the ack timeout`, async () => {
      const bus = createBus({ engine: natsEngine({ servers: NATS_URL, prefix: prefix() }) });
      try {
        const t = bus.topic<number>('t', { capacity: 4, overflow, groups: ['g', 'h'], ackTimeoutMs: 1_500 });
        expect(await t.publishBatch([0, 1, 2, 3])).toEqual([0, 1, 2, 3]);
        const g = t.consumer({ group: 'g', prefetch: 4 });
        const h = t.consumer({ group: 'h', prefetch: 4 });
        const heldG: Delivery<number>[] = [];
        const heldH: Delivery<number>[] = [];
        for (let i = 0; i < 4; i++) heldG.push((await g.recv())!);
        for (let i = 0; i < 4; i++) heldH.push((await h.recv())!);
        expect(heldG.map((d) => d.value)).toEqual([0, 1, 2, 3]);
        // g settles offset 0, h offsets 0 and 1: only offset 0 is settled by every group
        expect(heldG.shift()!.ack()).toBe(true);
        expect(heldH.shift()!.ack()).toBe(true);
        expect(heldH.shift()!.ack()).toBe(true);
        await new Promise((r) => setTimeout(r, 100)); // the acks reach the server

        expect(await t.publish(4)).toBe(4); // needs room: offset 0 goes
        expect(await settledOn(() => t.stats(), (s) => s.head === 1)).toMatchObject({ head: 1, size: 4, tail: 5 });
        if (overflow === 'reject') await expect(t.publish(5)).rejects.toMatchObject({ name: 'TopicFullError' });

        // g nacks one held delivery and lets the other two time out; h lets its two time out
        expect(heldG.shift()!.nack()).toBe(true);
        const [gotG, gotH] = await Promise.all([drain(g, 1_500), drain(h, 1_500)]);
        expect(gotG.sort((a, b) => a[0] - b[0])).toEqual([[1, 2], [2, 2], [3, 2], [4, 1]]);
        expect(gotH.sort((a, b) => a[0] - b[0])).toEqual([[2, 2], [3, 2], [4, 1]]);
      } finally {
        await bus.close();
      }
    });
  }

  it('block with no group: forty publishes to a topic of capacity 4 all go through in call order, and the topic keeps the last 4', async () => {
    const bus = createBus({ engine: natsEngine({ servers: NATS_URL, prefix: prefix() }) });
    try {
      const t = bus.topic<number>('t', { capacity: 4, overflow: 'block' });
      const values = Array.from({ length: 40 }, (_, i) => i);
      expect(await Promise.all(values.map((v) => t.publish(v)))).toEqual(values);
      expect(await settledOn(() => t.stats(), (s) => s.head === 36)).toMatchObject({ head: 36, size: 4, tail: 40, waitingPublishers: 0 });
      const got = await drain(t.consumer({ group: 'late', from: 'earliest' }), 300);
      expect(got).toEqual([[36, 1], [37, 1], [38, 1], [39, 1]]);
    } finally {
      await bus.close();
    }
  });
});
