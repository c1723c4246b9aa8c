/**
 * One process of the cross-process test (processes.test.ts). Modes:
 * - `handle <prefix>`: a member of group `workers` through `messages().pipe(handle(fn))`; prints
 *   `{"event":"acked","value","offset","count"}` once each message is acked.
 * - `hold <prefix>`: a member through `consume()`: acks its first three messages, then holds every
 *   later one unsettled, printing `{"event":"held",...}` (the parent kills it with SIGKILL).
 * - `publish <prefix> <n>`: publishes 0..n-1 (half awaited one by one, half as one batch), prints `{"event":"published"}`.
 */
import { createBus } from '../../src/index.js';
import { handle } from '../../src/operators/index.js';
import { redisEngine } from '../../src/redis/index.js';
import { REDIS_URL } from './target.js';

const [mode, prefix, count] = process.argv.slice(2) as [string, string, string | undefined];
const bus = createBus({ engine: redisEngine({ url: REDIS_URL, prefix, pollMs: 10, leaseMs: 1000, janitorMs: 200 }) });
await bus.ready();
const jobs = bus.topic<number>('jobs', { groups: ['workers'], ackTimeoutMs: 60_000 });
const say = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

if (mode === 'publish') {
  const n = Number(count);
  const half = Math.floor(n / 2);
  for (let i = 0; i < half; i++) await jobs.publish(i);
  await jobs.publishBatch(Array.from({ length: n - half }, (_, i) => half + i));
  say({ event: 'published' });
  await bus.close();
} else if (mode === 'handle') {
  say({ event: 'ready' });
  jobs
    .messages({ group: 'workers', prefetch: 4 })
    .pipe(
      handle(async (value, d) => {
        await new Promise((r) => setTimeout(r, 2));
        return { value, offset: d.offset, count: d.deliveryCount };
      }),
    )
    .subscribe((o) => {
      if (o.ok) say({ event: 'acked', ...o.result });
    });
} else if (mode === 'hold') {
  say({ event: 'ready' });
  let seen = 0;
  const held = [];
  for await (const d of jobs.consume({ group: 'workers', prefetch: 3 })) {
    seen++;
    if (seen <= 3) {
      await new Promise((r) => setTimeout(r, 5));
      if (d.ack()) say({ event: 'acked', value: d.value, offset: d.offset, count: d.deliveryCount });
    } else {
      // An ack goes to the server a turn or two after ack() returns (the acks of a turn are sent
      // together): let the first three leave before the parent, seeing `held`, kills this process.
      if (seen === 4) await new Promise((r) => setTimeout(r, 50));
      held.push(d); // never settled: the process is killed holding it
      say({ event: 'held', value: d.value, offset: d.offset, count: d.deliveryCount });
    }
  }
}
