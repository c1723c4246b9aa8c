import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { type Bus, createBus } from '../../src/index.js';
import { REDIS_LACKS, redisEngine } from '../../src/redis/index.js';
import { type ConformanceTarget, realClock } from '../conformance/index.js';
import { detectService } from '../conformance/service.js';

/** The server the Redis tests run against. */
export const REDIS_URL = process.env['RINGBUS_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** Whether the server answers (throws under CI=true when it does not). */
export const redis = await detectService('Redis', REDIS_URL, 6379, 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no (or set RINGBUS_REDIS_URL)');

/** Deletes every key under `prefix`. */
export async function dropPrefix(prefix: string): Promise<void> {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  try {
    const keys: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1000 })) keys.push(...batch);
    if (keys.length > 0) await client.del(keys);
  } finally {
    await client.close();
  }
}

/** Engine options that make a test fast: a short poll, lease and janitor period. */
export const FAST = { pollMs: 10, leaseMs: 2000, janitorMs: 200 } as const;

/** A fresh key prefix for one test. */
export function testPrefix(): string {
  return `rbtest.${randomUUID().slice(0, 12)}`;
}

/** The neutral suite's target: every test on its own prefix (its buses share it), deleted after the test. */
export function redisTarget(unitMs: number): ConformanceTarget {
  let prefix = testPrefix();
  return {
    name: `redis (${unitMs} ms units)`,
    clock: () => realClock(unitMs),
    makeBus: (options) => createBus({ ...options, engine: redisEngine({ url: REDIS_URL, prefix, ...FAST }) }) as Bus,
    quietMs: 60,
    patienceMs: 5_000,
    lacks: {
      'overflow:grow': REDIS_LACKS['overflow:grow'],
      'filter:counted': "a consumer's filter runs in the client's process; what it rejects is acked to the server",
      delayMs: REDIS_LACKS.delayMs,
      priorities: REDIS_LACKS.priorities,
      ordering: REDIS_LACKS.ordering,
    },
    async cleanup() {
      const done = prefix;
      prefix = testPrefix();
      await dropPrefix(done);
    },
  };
}
