import { describe, it } from 'vitest';
import { describeNeutralConformance } from '../conformance/index.js';
import { redis, redisTarget } from './target.js';

// The engine-neutral suite against the live server, on wall time (the server keeps the timers).
if (redis.available) describeNeutralConformance({ ...redisTarget(50), volume: process.env.RINGBUS_DEEP === '1' ? 1000 : 200 });
else describe('neutral conformance: redis', () => it.skip(`skipped: ${redis.reason}`, () => {}));
