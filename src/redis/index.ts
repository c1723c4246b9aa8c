/**
 * `ringbus/redis`: the same Topic, Consumer and faces on Redis Streams (Node only; needs the
 * optional peer dependency `redis`, node-redis 6, and Redis 7.0 or newer).
 *
 * A topic is a stream, a group a consumer group, a member a consumer of it; what Redis lacks
 * (capacity under `block`/`reject`, TTL, nack delays, dead letters, stale-ack detection) is done
 * by Lua functions (a Redis Functions library), atomically on the server. ringbus must be the
 * only writer of its keys: offsets are the stream's ids `0-1, 0-2, …`. See docs/engines.md.
 *
 * @example
 * ```ts
 * import { createBus } from 'ringbus';
 * import { redisEngine } from 'ringbus/redis';
 *
 * const bus = createBus({ engine: redisEngine({ url: 'redis://127.0.0.1:6379' }) });
 * await bus.ready();
 * const jobs = bus.topic<{ id: number }>('jobs', { groups: ['workers'] });
 * await jobs.publish({ id: 1 });
 * const d = await jobs.consumer({ group: 'workers' }).recv();
 * d?.ack();
 * await bus.close();
 * ```
 *
 * @module
 */
import type { Engine } from '../engine.js';
import { RedisEngine, type RedisEngineOptions } from './engine.js';

export { REDIS_LACKS } from './engine.js';

export type { RedisClient, RedisEngineOptions } from './engine.js';

/**
 * The Redis Streams engine: `createBus({ engine: redisEngine({ url }) })`, or `{ client }` with a
 * node-redis client the caller owns. Throws `ConfigError` for options it cannot use.
 */
export function redisEngine(options: RedisEngineOptions): Engine {
  return new RedisEngine(options);
}
