import { createClient } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import { type Bus, ConfigError, createBus } from '../../src/index.js';
import { redisEngine } from '../../src/redis/index.js';
import { dropPrefix, FAST, REDIS_URL, redis, testPrefix } from './target.js';

// What the Redis engine does beyond the neutral suite: its options, its refusals, the caller's
// client, its key layout, buses in different connections sharing a topic.
let prefix = testPrefix();
const buses: Bus[] = [];
function bus(options: Partial<Parameters<typeof redisEngine>[0]> = {}): Bus {
  const b = createBus({ engine: redisEngine({ url: REDIS_URL, prefix, ...FAST, ...options }) });
  buses.push(b);
  return b;
}

async function eventually(fn: () => void, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

afterEach(async () => {
  for (const b of buses.splice(0)) await b.close();
  if (redis.available) await dropPrefix(prefix);
  prefix = testPrefix();
});

describe('redisEngine options', () => {
  it('takes exactly one of url and client, and checks its numbers', () => {
    expect(() => redisEngine({})).toThrow(ConfigError);
    expect(() => redisEngine({ url: REDIS_URL, client: createClient() })).toThrow(/exactly one of `url` and `client`/);
    expect(() => redisEngine({ url: REDIS_URL, pollMs: 0 })).toThrow(/`pollMs` must be a finite number > 0/);
    expect(() => redisEngine({ url: REDIS_URL, prefix: 'a{b}' })).toThrow(/`prefix`/);
  });

  it('refuses what it lacks with a ConfigError naming redis and the option', async () => {
    const b = createBus({ engine: redisEngine({ url: 'redis://127.0.0.1:1' }) });
    b.ready().catch(() => undefined);
    expect(() => b.topic('t', { overflow: 'grow' })).toThrow(/the redis engine does not support `overflow:grow`/);
    let error: unknown;
    try {
      b.topic('u', { codec: { name: 'x', encode: (v: unknown) => v as Uint8Array, decode: (b: Uint8Array) => b } as never });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).option).toBe('codec');
    expect(() => b.topic('v').consumer({ returnOnGc: true })).toThrow(/redis engine does not support `returnOnGc`/);
    expect(() => createBus({ engine: redisEngine({ url: REDIS_URL }), scheduler: {} as never })).toThrow(/redis engine does not support `scheduler`/);
    for (const [options, option] of [
      [{ priorities: 3 }, 'priorities'],
      [{ maxConsecutive: 2 }, 'maxConsecutive'],
      [{ ordering: 'key' }, 'ordering'],
    ] as const) {
      expect(() => b.topic('w', options)).toThrow(expect.objectContaining({ option, message: expect.stringContaining('the redis engine does not support') }));
    }
    for (const option of ['delayMs', 'deliverAt'] as const) {
      await expect(b.topic('v').publish(1, { [option]: 1_000 })).rejects.toMatchObject({ option, message: expect.stringContaining('the redis engine does not support') });
    }
    void b.close();
  });
});

describe.skipIf(!redis.available)('redis engine on the live server', () => {
  it("uses the caller's client and leaves it open", async () => {
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    const b = createBus({ engine: redisEngine({ client, prefix, ...FAST }) });
    const t = b.topic<string>('t', { groups: ['g'] });
    expect(await t.publish('x')).toBe(0);
    expect((await t.consumer({ group: 'g' }).recv())?.value).toBe('x');
    await b.close();
    expect(client.isOpen).toBe(true);
    expect(await client.xLen(`${prefix}:{t}:s`)).toBe(1);
    await client.close();
  });

  it('keeps a topic under one hash tag, with stream ids 0-1, 0-2, … (offset = sequence - 1)', async () => {
    const t = bus().topic<{ n: number; at: Date }>('orders', { groups: ['g'] });
    expect(await t.publishBatch([0, 1, 2].map((n) => ({ n, at: new Date(n) })))).toEqual([0, 1, 2]);
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    const ids = ((await client.xRange(`${prefix}:{orders}:s`, '-', '+')) ?? []).map((e) => e?.id);
    expect(ids).toEqual(['0-1', '0-2', '0-3']);
    const keys: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: `${prefix}:*` })) keys.push(...batch);
    expect(keys.every((k) => k.startsWith(`${prefix}:{orders}:`))).toBe(true);
    await client.close();
    const d = await t.consumer({ group: 'g' }).recv();
    expect(d?.value).toEqual({ n: 0, at: new Date(0) }); // MessagePack keeps a Date
  });

  it('two buses on their own connections share a topic; another bus asking with other options is refused', async () => {
    const a = bus();
    const b = bus({ pollMs: 5_000 }); // only the blocking watcher can wake it in time
    const ta = a.topic<number>('t', { capacity: 8, groups: ['g'] });
    const tb = b.topic<number>('t', { capacity: 8, groups: ['g'] });
    const c = tb.consumer({ group: 'g' });
    const waiting = c.recv();
    await new Promise((r) => setTimeout(r, 100));
    const sent = Date.now();
    await ta.publish(7);
    expect((await waiting)?.value).toBe(7);
    expect(Date.now() - sent).toBeLessThan(1000);
    const other = bus().topic<number>('t', { capacity: 16 });
    await expect(other.publish(1)).rejects.toThrow(/topic `t` exists on redis with a different `capacity`: 8 there, 16 asked/);
  });

  it('a delivery made stale by another process (a seek) settles nothing: its ack() answers false once the member has checked', async () => {
    const a = bus();
    const t = a.topic<number>('t', { groups: ['g'] });
    await t.publishBatch([0, 1, 2]);
    const d = await t.consumer({ group: 'g', prefetch: 1 }).recv();
    expect(d?.offset).toBe(0);
    const other = bus().topic<number>('t').consumer({ group: 'g' });
    expect(other.seek(2)).toBe(true);
    await eventually(() => expect(d!.settled).toBe(true)); // the member's check learns it is no longer its own
    expect(d!.ack()).toBe(false);
    await eventually(() => expect(t.stats().groups['g']).toMatchObject({ acked: 0, missed: 2 }));
  });

  it("an ack sent before the member learns of another process's seek back does not ack the entry's new delivery", async () => {
    const a = bus();
    const t = a.topic<number>('t', { groups: ['g'] });
    await t.publishBatch([0, 1, 2]);
    const d = await t.consumer({ group: 'g', prefetch: 1 }).recv();
    expect(d?.offset).toBe(0);
    const b = bus().topic<number>('t');
    const other = b.consumer({ group: 'g', prefetch: 1 });
    await other.seek(0);
    const again = await other.recv();
    expect(again).toMatchObject({ offset: 0, deliveryCount: 1 });
    d!.ack(); // stale on the server, not yet known here
    await new Promise((r) => setTimeout(r, 200));
    await eventually(() => expect(b.stats().groups['g']).toMatchObject({ pending: 1, acked: 0 })); // the new delivery is still pending
    expect(again!.ack()).toBe(true);
    await eventually(() => expect(b.stats().groups['g']).toMatchObject({ pending: 0, acked: 1 }));
  });

  it('a member reading new entries plainly never hands out an entry whose TTL passed: the server removes it, counted expired', async () => {
    // a long poll and janitor: nothing but the member's own read meets the expired entry
    const a = bus({ pollMs: 60_000, janitorMs: 60_000 });
    const t = a.topic<number>('t', { groups: ['g'] });
    const c = t.consumer({ group: 'g', prefetch: 1 });
    const first = c.recv(); // finds nothing: the member reads new entries plainly until the next poll
    await new Promise((r) => setTimeout(r, 100));
    await t.publish(0);
    const d0 = await first;
    expect(d0?.offset).toBe(0);
    await t.publish(1, { ttlMs: 20 }); // the topic's first entry with an expiry, not read: the window is full
    await new Promise((r) => setTimeout(r, 150));
    d0!.ack();
    const next = c.recv();
    await new Promise((r) => setTimeout(r, 100));
    await t.publish(2);
    expect((await next)?.offset).toBe(2);
    const other = bus().topic<number>('t'); // its janitor reads the figures
    await eventually(() => expect(other.stats().groups['g']).toMatchObject({ expired: 1, delivered: 2 }));
    expect(other.stats().expired).toBe(1);
  });
});
