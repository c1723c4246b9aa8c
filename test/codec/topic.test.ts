import { describe, expect, it } from 'vitest';
import { type Codec, gzip, json, msgpack } from '../../src/codec/index.js';
import { ConfigError, createBus } from '../../src/index.js';
import { DEEP } from '../reliability/config.js';

/** Messages of the round trip: 100 000 with RINGBUS_DEEP=1. */
const N = DEEP ? 100_000 : 10_000;

interface Order {
  id: number;
  items: string[];
  at: Date;
}

describe('topics with a codec', () => {
  it(`msgpack + gzip round-trips ${N} messages through a group, nothing lost, objects independent`, async () => {
    const t = createBus().topic<Order>('orders', { codec: msgpack, compression: gzip, capacity: 4096, groups: ['g'] });
    const c = t.consumer({ group: 'g', prefetch: 1024 });
    let next = 0;
    const consume = async () => {
      for (;;) {
        const batch = await c.recvBatch(1024);
        if (batch.length === 0) return;
        for (const d of batch) {
          if (d.value.id !== next || d.value.items[0] !== `item-${next}` || !(d.value.at instanceof Date)) throw new Error(`bad message at ${next}`);
          next++;
          d.ack();
        }
      }
    };
    const done = consume();
    for (let i = 0; i < N; i += 1000) {
      const batch: Order[] = [];
      for (let k = i; k < i + 1000; k++) batch.push({ id: k, items: [`item-${k}`, 'x'], at: new Date(k) });
      await t.publishBatch(batch);
    }
    await t.close();
    await done;
    expect(next).toBe(N);
    const s = t.stats();
    expect(s.groups.g).toMatchObject({ acked: N, pending: 0, deadLettered: 0, lag: 0 });
    expect(s.bytesPublished).toBeGreaterThan(0);
  }, 60_000); // N gzip frames: seconds alone at 100 000, far more while every core is busy

  it("a later mutation of the publisher's object cannot change the message; each consumer gets its own copy", () => {
    const t = createBus().topic<{ n: number }>('t', { codec: json, groups: ['a', 'b'] });
    const mine = { n: 1 };
    t.tryPublish(mine);
    mine.n = 2;
    const a = t.consumer({ group: 'a' }).tryRecv()!;
    const b = t.consumer({ group: 'b' }).tryRecv()!;
    expect(a.value).toEqual({ n: 1 });
    expect(a.value).not.toBe(mine);
    expect(a.value).not.toBe(b.value);
  });

  it('a per-publish codec overrides the topic default; the frame tells the reader which', () => {
    const t = createBus().topic<{ n: number }>('t', { codec: msgpack, groups: ['g'] });
    t.tryPublish({ n: 1 }, { codec: json });
    t.tryPublish({ n: 2 });
    t.tryPublish({ n: 3 }, { compression: gzip });
    const c = t.consumer({ group: 'g' });
    expect([c.tryRecv()?.value, c.tryRecv()?.value, c.tryRecv()?.value]).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('a message that fails to decode is dead-lettered with reason decode-error; the group goes on', () => {
    const bus = createBus();
    const broken: Codec<{ n: number }> = {
      name: 'broken',
      contentType: 'application/x-broken',
      id: 200,
      encode: (v) => new TextEncoder().encode(JSON.stringify(v)),
      decode: () => {
        throw new Error('cannot read this');
      },
    };
    const t = bus.topic<{ n: number }>('t', { codec: json, groups: ['g'], deadLetter: 'dlq' });
    const dlq = bus.topic<Uint8Array>('dlq', { groups: ['x'] });
    t.tryPublish({ n: 1 }, { codec: broken });
    t.tryPublish({ n: 2 });
    const c = t.consumer({ group: 'g' });
    const d = c.tryRecv()!;
    expect(d.value).toEqual({ n: 2 });
    d.ack();
    const dl = dlq.consumer({ group: 'x' }).tryRecv()!;
    expect(dl.headers['x-dead-letter-reason']).toBe('decode-error');
    expect(dl.headers['x-original-offset']).toBe('0');
    expect(dl.value).toBeInstanceOf(Uint8Array);
    expect(t.stats().groups.g).toMatchObject({ deadLettered: 1, acked: 1, committed: 2, pending: 0 });
  });

  it('values() decodes too', () => {
    const t = createBus().topic<{ n: number }>('t', { codec: msgpack });
    const seen: unknown[] = [];
    t.values().subscribe((v) => seen.push(v));
    t.tryPublish({ n: 1 });
    expect(seen).toEqual([{ n: 1 }]);
  });

  it('stats report bytes retained and published', () => {
    const t = createBus().topic<string>('t', { codec: json, capacity: 2 });
    t.tryPublish('aaaa');
    t.tryPublish('bb');
    t.tryPublish('c');
    const s = t.stats();
    expect(s.bytesPublished).toBe(3 * 6 + 6 + 4 + 3);
    expect(s.bytes).toBe(2 * 6 + 4 + 3);
    expect(createBus().topic('p').stats()).toMatchObject({ bytes: 0, bytesPublished: 0 });
  });

  it('rejects codec options that cannot work', () => {
    const bus = createBus();
    expect(() => bus.topic('a', { compression: gzip })).toThrow(/needs a `codec`/);
    expect(() => bus.topic('b', { codec: { id: 1 } as never })).toThrow(ConfigError);
    const plain = bus.topic('c');
    expect(() => plain.tryPublish(1, { codec: json })).toThrow(/needs a topic with a `codec`/);
    expect(plain.stats().published).toBe(0);
  });
});
