/**
 * Probe for eager ring allocation, run in a child process (small heap) by regressions.test.ts:
 * a topic whose `capacity` is inside the documented range (≤ 2^30) but holds a few messages.
 */
import { createBus } from '../../src/index.js';

const capacity = Number(process.argv[2] ?? 2 ** 26);
const t = createBus().topic<number>('t', { capacity, groups: ['g'] });
for (let i = 0; i < 10; i++) t.tryPublish(i);
console.log(JSON.stringify({ capacity, size: t.stats().size, heapMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20) }));
