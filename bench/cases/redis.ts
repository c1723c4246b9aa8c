/**
 * ringbus/redis against raw node-redis doing the same commands on the same server (issue 28):
 * publish awaited one at a time, publish with 256 in flight, and consume + ack. Both sides move
 * the same entry (`v`: the message as MessagePack, `t`: a timestamp) through one connection.
 * Every trial works under its own key prefix, deleted afterwards (untimed). Needs a Redis 7
 * server at RINGBUS_REDIS_URL (default redis://127.0.0.1:6379).
 */
import { randomUUID } from 'node:crypto';
import { encode, decode } from '@msgpack/msgpack';
import { Sink, type Case, type Msg, type Trial } from '../lib/harness.js';

export const REDIS_URL = process.env.RINGBUS_REDIS_URL ?? 'redis://127.0.0.1:6379';
const IN_FLIGHT = 256;
const FETCH = 256;

type Client = Awaited<ReturnType<typeof connect>>;

async function connect() {
  const { createClient, RESP_TYPES } = await import('redis');
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  return { client, raw: client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }) };
}

async function dropPrefix(c: Client, prefix: string): Promise<void> {
  const keys: string[] = [];
  for await (const batch of c.client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) keys.push(...batch);
  if (keys.length > 0) await c.client.del(keys);
}

function entry(i: number): Buffer[] {
  const bytes = encode({ id: i, v: 'x' } satisfies Msg);
  return [Buffer.from('v'), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), Buffer.from('t'), Buffer.from(String(Date.now()))];
}

/** A raw node-redis trial on a fresh stream key, with the connection closed and the key deleted afterwards. */
async function rawTrial(run: (c: Client, key: string, sink: Sink) => Promise<void>, prefill = 0): Promise<Trial> {
  const c = await connect();
  const prefix = `rbbench.${randomUUID().slice(0, 8)}`;
  const key = `${prefix}:s`;
  if (prefill > 0) {
    for (let i = 0; i < prefill; i += 1000) {
      const adds: Promise<unknown>[] = [];
      for (let k = i; k < Math.min(prefill, i + 1000); k++) adds.push(c.raw.sendCommand(['XADD', key, '0-*', ...entry(k)]));
      await Promise.all(adds);
    }
    await c.client.sendCommand(['XGROUP', 'CREATE', key, 'g', '0']);
  }
  const sink = new Sink();
  return {
    async run() {
      await run(c, key, sink);
      return sink.result();
    },
    async dispose() {
      await dropPrefix(c, prefix);
      await c.client.close();
    },
  };
}

interface RedisTopic {
  publish(value: Msg): Promise<number>;
  publishBatch(values: Msg[]): Promise<number[]>;
  consumer(o: object): AsyncIterable<{ value: Msg; ack(): boolean }>;
}

/** A ringbus bus on redis under a fresh prefix, its keys deleted afterwards. */
async function ringbusTrial(run: (t: RedisTopic, sink: Sink) => Promise<void>, n: number, prefill = false): Promise<Trial> {
  const { createBus } = await import('../../src/index.js');
  const { redisEngine } = await import('../../src/redis/index.js');
  const prefix = `rbbench.${randomUUID().slice(0, 8)}`;
  const bus = createBus({ engine: redisEngine({ url: REDIS_URL, prefix }) });
  await bus.ready();
  const t = bus.topic<Msg>('bench', { capacity: Math.max(1024, n), ...(prefill ? { groups: ['g'] } : {}) }) as unknown as RedisTopic;
  if (prefill) for (let i = 0; i < n; i += 1000) await t.publishBatch(Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({ id: i + k, v: 'x' })));
  const sink = new Sink();
  return {
    async run() {
      await run(t, sink);
      return sink.result();
    },
    async dispose() {
      await bus.close();
      const c = await connect();
      await dropPrefix(c, prefix);
      await c.client.close();
    },
  };
}

const awaitedSize = (base: number, quick: boolean) => (quick ? 500 : Math.min(base, 5000));
const bulkSize = (base: number, quick: boolean) => (quick ? 2000 : Math.min(base, 50_000));
const service = { name: 'Redis', url: REDIS_URL, defaultPort: 6379 };

export const redisCases: Case[] = [
  {
    name: 'node-redis XADD awaited',
    group: 'redis',
    note: 'raw node-redis: await XADD key 0-* v <msgpack> t <ms>, one at a time',
    service,
    size: awaitedSize,
    prepare: (n) =>
      rawTrial(async (c, key, sink) => {
        for (let i = 0; i < n; i++) {
          await c.raw.sendCommand(['XADD', key, '0-*', ...entry(i)]);
          sink.takeId(i);
        }
      }),
  },
  {
    name: 'ringbus redis publish awaited',
    group: 'redis',
    note: 'redisEngine topic (no group): await publish({ id, v }), one at a time',
    service,
    size: awaitedSize,
    prepare: (n) =>
      ringbusTrial(async (t, sink) => {
        for (let i = 0; i < n; i++) {
          await t.publish({ id: i, v: 'x' });
          sink.takeId(i);
        }
      }, n),
  },
  {
    name: 'node-redis XADD ×256 in flight',
    group: 'redis',
    note: 'raw node-redis: 256 XADD promises in flight (auto-pipelined), await all, repeat',
    service,
    size: bulkSize,
    prepare: (n) =>
      rawTrial(async (c, key, sink) => {
        for (let i = 0; i < n; ) {
          const start = i;
          const batch: Promise<unknown>[] = [];
          for (const end = Math.min(n, i + IN_FLIGHT); i < end; i++) batch.push(c.raw.sendCommand(['XADD', key, '0-*', ...entry(i)]));
          await Promise.all(batch);
          for (let k = start; k < i; k++) sink.takeId(k);
        }
      }),
  },
  {
    name: 'ringbus redis publish ×256 in flight',
    group: 'redis',
    note: 'redisEngine topic (no group): 256 publish() promises in flight, await all, repeat',
    service,
    size: bulkSize,
    prepare: (n) =>
      ringbusTrial(async (t, sink) => {
        for (let i = 0; i < n; ) {
          const start = i;
          const batch: Promise<number>[] = [];
          for (const end = Math.min(n, i + IN_FLIGHT); i < end; i++) batch.push(t.publish({ id: i, v: 'x' }));
          await Promise.all(batch);
          for (let k = start; k < i; k++) sink.takeId(k);
        }
      }, n),
  },
  {
    name: 'node-redis XREADGROUP + XACK per batch',
    group: 'redis',
    note: 'raw node-redis: XREADGROUP COUNT 256 on a filled stream, decode each entry, one XACK per batch (not awaited; all awaited at the end)',
    service,
    size: bulkSize,
    prepare: (n) =>
      rawTrial(async (c, key, sink) => {
        const acks: Promise<unknown>[] = [];
        while (sink.count < n) {
          const reply = (await c.raw.sendCommand(['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', String(FETCH), 'STREAMS', key, '>'])) as Record<string, [Buffer, Buffer[]][]> | null;
          if (reply === null) continue;
          const entries = Object.values(reply)[0] ?? [];
          const ids: Buffer[] = [];
          for (const [id, fields] of entries) {
            sink.take(decode(fields[1]!) as Msg);
            ids.push(id);
          }
          acks.push(c.raw.sendCommand(['XACK', key, 'g', ...ids]));
        }
        await Promise.all(acks);
      }, n),
  },
  {
    name: 'ringbus redis consumer for-await ack',
    group: 'redis',
    note: 'redisEngine topic with group g, filled: consumer({ group, prefetch: 256 }) for-await, ack() each (acks go out batched per turn)',
    service,
    size: bulkSize,
    prepare: (n) =>
      ringbusTrial(
        async (t, sink) => {
          for await (const d of t.consumer({ group: 'g', prefetch: FETCH })) {
            sink.take(d.value);
            d.ack();
            if (sink.count === n) break;
          }
        },
        n,
        true,
      ),
  },
];
