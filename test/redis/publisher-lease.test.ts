import { createClient } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import { type Bus, ClosedError, createBus, TopicFullError } from '../../src/index.js';
import { type RedisClient, redisEngine } from '../../src/redis/index.js';
import { dropPrefix, FAST, REDIS_URL, redis, testPrefix } from './target.js';

// Publisher leases (docs/engines.md): a publish call may lease its publisher free places, filled
// with plain XADDs; capacity counts other publishers' leased places as taken, and a close refuses
// every later XADD in the server's order.
let prefix = testPrefix();
const buses: Bus[] = [];
const clients: RedisClient[] = [];

/** A bus on its own connection whose publishing commands are recorded in order: `XADD`, `pub` (the function's publish). */
async function recordedBus(): Promise<{ bus: Bus; sent: string[] }> {
  const client = createClient({ url: REDIS_URL }) as unknown as RedisClient;
  await client.connect();
  clients.push(client);
  const sent: string[] = [];
  const recorded = new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'withTypeMapping') return Reflect.get(target, property, receiver) as unknown;
      return (mapping: Parameters<RedisClient['withTypeMapping']>[0]) => {
        const typed = target.withTypeMapping(mapping);
        return {
          sendCommand(args: ReadonlyArray<string | Buffer>) {
            if (args[0] === 'XADD') sent.push('XADD');
            else if (args[0] === 'FCALL' && args[4] === 'pub') sent.push('pub');
            return typed.sendCommand(args);
          },
        };
      };
    },
  });
  const bus = createBus({ engine: redisEngine({ client: recorded, prefix, ...FAST }) });
  buses.push(bus);
  return { bus, sent };
}

async function streamLength(topic: string): Promise<number> {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  try {
    return await client.xLen(`${prefix}:{${topic}}:s`);
  } finally {
    await client.close();
  }
}

/** Publishes `value` until the topic refuses it as full: how many it took. */
async function publishUntilFull(topic: { publish(value: string): Promise<number> }, value: string): Promise<number> {
  for (let n = 0; ; n++) {
    try {
      await topic.publish(value);
    } catch (e) {
      expect(e).toBeInstanceOf(TopicFullError);
      return n;
    }
  }
}

afterEach(async () => {
  for (const b of buses.splice(0)) await b.close();
  for (const c of clients.splice(0)) await c.close();
  if (redis.available) await dropPrefix(prefix);
  prefix = testPrefix();
});

describe.skipIf(!redis.available)('redis publisher leases', () => {
  it('a close by another bus refuses the next publish of a publisher holding a lease: no entry is stored after it', async () => {
    const a = await recordedBus();
    const b = await recordedBus();
    const ta = a.bus.topic<number>('t', { capacity: 1024 });
    expect(await ta.publish(0)).toBe(0); // a function call, which leases places
    a.sent.length = 0;
    for (let i = 1; i <= 5; i++) expect(await ta.publish(i)).toBe(i);
    expect(a.sent).toEqual(['XADD', 'XADD', 'XADD', 'XADD', 'XADD']);
    const tb = b.bus.topic<number>('t');
    await tb.close();
    a.sent.length = 0;
    await expect(ta.publish(6)).rejects.toBeInstanceOf(ClosedError);
    expect(a.sent).toEqual(['XADD', 'pub']); // the plain XADD failed; the function refused it
    await expect(ta.publish(7)).rejects.toBeInstanceOf(ClosedError);
    expect(await streamLength('t')).toBe(6);
    await tb.close(); // refreshes its figures: the tail is still the count of entries added
    expect(tb.stats()).toMatchObject({ tail: 6, published: 6, size: 6, closed: true });
  });

  it("capacity counts the places leased to another publisher as taken: two publishers under 'reject' never store more than capacity, and store exactly capacity once both have called again", async () => {
    const a = await recordedBus();
    const b = await recordedBus();
    const options = { capacity: 40, overflow: 'reject', groups: ['g'] } as const;
    const ta = a.bus.topic<string>('t', options);
    const tb = b.bus.topic<string>('t', options);
    const granted = Date.now();
    expect(await ta.publish('a')).toBe(0); // leases a a quarter of the 39 free places: 9
    a.sent.length = 0;
    for (let i = 0; i < 9; i++) await ta.publish('a');
    expect(a.sent).toEqual(Array(9).fill('XADD'));
    // the server does not know a used its places: until a calls again or its lease lapses (3 s),
    // they count as taken as well as stored, so b stops short of capacity, never past it
    const fromB = await publishUntilFull(tb, 'b');
    if (Date.now() - granted < 3000) expect(fromB).toBe(21);
    else expect(fromB).toBeGreaterThanOrEqual(21);
    expect(await streamLength('t')).toBe(10 + fromB);
    // a's next call ends its lease: the places it filled are counted once, up to capacity exactly
    const fromA = await publishUntilFull(ta, 'a');
    expect(10 + fromB + fromA).toBe(40);
    expect(await streamLength('t')).toBe(40);
  });

  it('a publisher holding a lease on a topic another bus deleted adds nothing plainly: the publish goes through the function', async () => {
    const a = await recordedBus();
    const b = await recordedBus();
    const ta = a.bus.topic<number>('t', { capacity: 1024 });
    await ta.publish(0);
    b.bus.topic<number>('t');
    expect(await b.bus.deleteTopic('t')).toBe(true);
    a.sent.length = 0;
    await ta.publish(1);
    expect(a.sent).toEqual(['XADD', 'pub']); // the XADD (NOMKSTREAM) found no stream
  });

  it("a topic under 'drop-oldest' or with a TTL leases nothing: every publish is a function call", async () => {
    const { bus, sent } = await recordedBus();
    const drop = bus.topic<number>('d', { capacity: 1024, overflow: 'drop-oldest' });
    const ttl = bus.topic<number>('e', { capacity: 1024, ttlMs: 60_000 });
    await drop.publish(0);
    await ttl.publish(0);
    sent.length = 0;
    for (let i = 1; i <= 3; i++) {
      await drop.publish(i);
      await ttl.publish(i);
    }
    expect(sent).toEqual(Array(6).fill('pub'));
  });
});
