import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createBus, serveBus } from '../../src/index.js';
import { bundleChild } from '../bundle.js';

interface Seen {
  offset: number;
  value: number;
  deliveryCount: number;
}

let script: string;
beforeAll(async () => {
  script = await bundleChild(fileURLToPath(new URL('./worker-member.ts', import.meta.url)));
});

const workers: Worker[] = [];
afterAll(async () => {
  await Promise.all(workers.map((w) => w.terminate()));
});

/** A worker thread that is a member of group `w`, served `bus` over a fresh MessageChannel. */
function member(bus: ReturnType<typeof createBus>, ack: boolean, prefetch: number): { worker: Worker; seen: Seen[] } {
  const { port1, port2 } = new MessageChannel();
  serveBus(bus, port1);
  const worker = new Worker(script, { workerData: { port: port2, ack, prefetch }, transferList: [port2 as never] });
  workers.push(worker);
  const seen: Seen[] = [];
  worker.on('message', (m: Seen) => seen.push(m));
  return { worker, seen };
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

it('two worker threads compete in one group over portEngine; a terminated one returns what it held, redelivered to the other with deliveryCount 2', async () => {
  const bus = createBus();
  const jobs = bus.topic<number>('jobs', { groups: ['w'], ackTimeoutMs: 600_000 });
  const N = 40;
  await jobs.publishBatch(Array.from({ length: N }, (_, i) => i));

  // A holds 5 unsettled; B then takes and acks everything else
  const a = member(bus, false, 5);
  await until('A to hold 5', () => a.seen.length === 5);
  const b = member(bus, true, 8);
  await until('B to ack the other 35', () => b.seen.length === N - 5);
  expect(jobs.stats().groups.w).toMatchObject({ members: 2, pending: 5, acked: N - 5 });
  const held = a.seen.map((s) => s.offset);
  // nothing delivered twice at once: none of what A holds went to B while A lived
  expect(b.seen.filter((s) => held.includes(s.offset))).toEqual([]);

  await a.worker.terminate();
  await until('B to get what A held', () => b.seen.length === N);
  const back = b.seen.slice(N - 5);
  expect(back.map((s) => s.offset).sort((x, y) => x - y)).toEqual([...held].sort((x, y) => x - y));
  expect(back.every((s) => s.deliveryCount === 2)).toBe(true);
  // nothing lost, nothing twice: B saw every offset exactly once, and everything is acked
  expect(b.seen.map((s) => s.offset).sort((x, y) => x - y)).toEqual(Array.from({ length: N }, (_, i) => i));
  await until('every message acked', () => jobs.stats().groups.w!.acked === N && jobs.stats().groups.w!.pending === 0);
  expect(jobs.stats().groups.w).toMatchObject({ members: 1, committed: N, redelivered: 5 });
  await bus.close();
});
