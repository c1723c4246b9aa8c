/**
 * `grow` on JetStream: the stream's `max_msgs` is `maxCapacity`, and each process derives the
 * capacity from what the groups still need at every refresh of the figures, deleting settled
 * messages past it.
 */
import { describe, expect, it } from 'vitest';
import { createBus, type TopicStats, TopicFullError } from '../../src/index.js';
import { natsEngine } from '../../src/nats/index.js';
import { NATS_URL, nats, prefixPerTest, settledOn } from './service.js';

const prefix = prefixPerTest();

const shape = (s: TopicStats): unknown => ({ capacity: s.capacity, size: s.size, tail: s.tail });

describe.skipIf(!nats.available)(`grow on JetStream${nats.available ? '' : ` (${nats.reason})`}`, () => {
  it("a second process derives the grown capacity from the server at once, and both shrink back once the group settles", async () => {
    const p = prefix();
    const a = createBus({ engine: natsEngine({ servers: NATS_URL, prefix: p }) });
    const b = createBus({ engine: natsEngine({ servers: NATS_URL, prefix: p }) });
    try {
      const ta = a.topic<number>('t', { capacity: 2, overflow: 'grow', growthFactor: 2, maxCapacity: 8, groups: ['g'] });
      for (let i = 0; i < 5; i++) expect(await ta.publish(i)).toBe(i);
      expect(shape(await settledOn(() => ta.stats(), (s) => s.capacity === 8 && s.size === 5))).toEqual({ capacity: 8, size: 5, tail: 5 });
      const tb = b.topic<number>('t'); // opened as it is, from capacity 2
      expect(shape(await settledOn(() => tb.stats(), (s) => s.capacity === 8 && s.size === 5))).toEqual({ capacity: 8, size: 5, tail: 5 });
      expect(await tb.publishBatch([5, 6, 7])).toEqual([5, 6, 7]);
      await expect(tb.publish(8)).rejects.toBeInstanceOf(TopicFullError); // at maxCapacity: as reject
      const c = tb.consumer({ group: 'g', prefetch: 8 });
      for (let i = 0; i < 8; i++) (await c.recv())?.ack();
      await new Promise((r) => setTimeout(r, 100));
      for (const t of [ta, tb]) expect(shape(await settledOn(() => t.stats(), (s) => s.capacity === 2 && s.size <= 2))).toEqual({ capacity: 2, size: 2, tail: 8 });
      // three unsettled: the capacity grows to 4; settled messages past it are deleted (how many of
      // offsets 6 and 7 stay depends on how the refreshes fell between the publishes)
      expect(await ta.publishBatch([8, 9, 10])).toEqual([8, 9, 10]);
      const s = await settledOn(() => ta.stats(), (s) => s.tail === 11 && s.capacity === 4 && s.size <= 4);
      expect({ capacity: s.capacity, size: s.size, tail: s.tail }).toEqual({ capacity: 4, size: 11 - s.head, tail: 11 });
      expect(s.head).toBeGreaterThanOrEqual(7);
      expect(s.head).toBeLessThanOrEqual(8);
    } finally {
      await b.close();
      await a.close();
    }
  });
});
