/**
 * `drop-oldest` on JetStream: the stream discards the oldest message itself (discard-old), and
 * every process derives what each group missed: a message the group's consumer had not reached
 * from the gaps between its first deliveries (or a snapshot's first sequence past the consumer's),
 * one it held or was to redeliver from the server's `MSG_TERMINATED` advisory. A member's own
 * `term()` is not an eviction.
 */
import { describe, expect, it } from 'vitest';
import { createBus, type Delivery, type TopicStats } from '../../src/index.js';
import { natsEngine } from '../../src/nats/index.js';
import { NATS_URL, nats, prefixPerTest, settledOn } from './service.js';

const prefix = prefixPerTest();

function figures(s: TopicStats): unknown {
  return { head: s.head, tail: s.tail, size: s.size, dropped: s.dropped, g: s.groups.g?.missed, idle: s.groups.idle?.missed, pending: s.groups.g?.pending };
}

describe.skipIf(!nats.available)(`drop-oldest on JetStream${nats.available ? '' : ` (${nats.reason})`}`, () => {
  it('held, nacked and undelivered messages evicted count as missed (exactly in the member\'s process); a held one goes stale; a term is not an eviction', async () => {
    const p = prefix();
    const publisher = createBus({ engine: natsEngine({ servers: NATS_URL, prefix: p }) });
    const worker = createBus({ engine: natsEngine({ servers: NATS_URL, prefix: p }) });
    try {
      const options = { capacity: 4, overflow: 'drop-oldest', groups: ['g', 'idle'] } as const;
      const pt = publisher.topic<number>('t', options);
      const wt = worker.topic<number>('t', options);
      expect(await pt.publishBatch([0, 1, 2, 3])).toEqual([0, 1, 2, 3]);
      const c = wt.consumer({ group: 'g', prefetch: 2 });
      const held = (await c.recv()) as Delivery<number>;
      const nacked = (await c.recv()) as Delivery<number>;
      expect([held.offset, nacked.offset]).toEqual([0, 1]);
      nacked.nack({ delayMs: 20_000 }); // waits at the server for its redelivery
      await new Promise((r) => setTimeout(r, 100));

      // a process counts only what leaves the head after it first saw a consumer (evictions.ts):
      // the publisher's snapshot must hold both groups' consumers before the eviction
      await settledOn(() => pt.stats(), (s) => s.groups.g?.lag === 4 && s.groups.idle?.lag === 4);
      // offsets 0 (held), 1 (to be redelivered) and 2 (not delivered, or only read ahead) go
      expect(await pt.publishBatch([4, 5, 6])).toEqual([4, 5, 6]);
      const want = { head: 3, tail: 7, size: 4, dropped: 3, g: 3, idle: 3, pending: 0 };
      expect(figures(await settledOn(() => wt.stats(), (s) => s.dropped === 3 && s.groups.g?.missed === 3 && s.groups.idle?.missed === 3))).toEqual(want);
      // the publisher has no member of g: it sees offset 2 missed only if its snapshot caught g's
      // consumer behind it (or the worker had read it ahead); 0 and 1 from the advisories
      const inPublisher = { ...want, g: expect.toSatisfy((n: number) => n === 2 || n === 3) };
      expect(figures(await settledOn(() => pt.stats(), (s) => s.dropped === 3 && s.groups.idle?.missed === 3 && s.groups.g!.missed >= 2))).toEqual(inPublisher);
      expect(held.ack()).toBe(false); // stale: the server settled it when it evicted it
      expect(c.held).toBe(0);

      // the group goes on from the head; a dead letter (term) of a retained message is not a miss
      const next = (await c.recv()) as Delivery<number>;
      expect([next.offset, next.deliveryCount]).toEqual([3, 1]);
      expect(next.term('bad')).toBe(true);
      expect((await c.recv())?.offset).toBe(4);
      await new Promise((r) => setTimeout(r, 200));
      const s = await settledOn(() => wt.stats(), (s) => s.groups.g?.pending === 1);
      expect(figures(s)).toEqual({ ...want, pending: 1 });
      expect(figures(await settledOn(() => pt.stats(), (s) => s.groups.g?.pending === 1))).toEqual({ ...inPublisher, pending: 1 });
    } finally {
      await worker.close();
      await publisher.close();
    }
  });

  it('a slow member behind a fast publisher: every message is either acked or counted missed, once', async () => {
    const bus = createBus({ engine: natsEngine({ servers: NATS_URL, prefix: prefix() }) });
    try {
      const n = process.env.RINGBUS_DEEP === '1' ? 2000 : 200;
      const t = bus.topic<number>('t', { capacity: 8, overflow: 'drop-oldest', groups: ['g'] });
      const c = t.consumer({ group: 'g', prefetch: 4 });
      let acked = 0;
      const consuming = (async () => {
        for (;;) {
          const d = (await c.recv()) as Delivery<number>;
          await new Promise((r) => setTimeout(r, 1));
          if (d.ack()) acked++;
          if (d.offset === n - 1) return; // the newest is never evicted
        }
      })();
      for (let i = 0; i < n; i += 50) await t.publishBatch(Array.from({ length: 50 }, (_, j) => i + j));
      await consuming;
      const s = await settledOn(() => t.stats(), (s) => s.groups.g!.committed === n && acked + s.groups.g!.missed >= n);
      expect({ total: acked + s.groups.g!.missed, dropped: s.dropped, committed: s.groups.g!.committed }).toEqual({ total: n, dropped: s.groups.g!.missed, committed: n });
      expect(s.groups.g!.missed).toBeGreaterThan(0);
    } finally {
      await bus.close();
    }
  });

  it('a group that settles everything misses nothing: the settled head is evicted silently', async () => {
    const bus = createBus({ engine: natsEngine({ servers: NATS_URL, prefix: prefix() }) });
    try {
      const t = bus.topic<number>('t', { capacity: 3, overflow: 'drop-oldest', groups: ['g'] });
      const c = t.consumer({ group: 'g', prefetch: 8 });
      for (let i = 0; i < 10; i++) {
        expect(await t.publish(i)).toBe(i);
        const d = (await c.recv()) as Delivery<number>;
        expect(d.value).toBe(i);
        d.ack();
      }
      await new Promise((r) => setTimeout(r, 200));
      const s = await settledOn(() => t.stats(), (s) => s.head === 7 && s.groups.g?.committed === 10);
      expect(figures(s)).toMatchObject({ head: 7, tail: 10, size: 3, dropped: 0, g: 0 });
    } finally {
      await bus.close();
    }
  });
});
