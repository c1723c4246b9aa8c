/**
 * Soak test: producers and competing consumers with random failures and restarts, for N minutes.
 *
 *   node --conditions=ringbus-source --import tsx scripts/soak.ts --minutes 10 [--interval 5] [--seed 42]
 *
 * Producers publish numbered jobs to a `block` topic (capacity 1024) with one durable group.
 * Consumers (competing members of that group) ack most jobs, and otherwise nack (with or without
 * delay), term (dead-letter), hold without settling (the ack timeout returns it), crash (close
 * without acking: everything they hold goes back) or restart. A job delivered `maxDeliveries`
 * times is dead-lettered to a topic whose own group records it.
 *
 * Every few seconds it prints messages accepted, acked, redelivered, dead-lettered, in flight,
 * lost and heap. At the end producers stop, consumers drain without failures, and every accepted
 * job must be acked or dead-lettered exactly once; "lost" counts jobs that are neither, plus any
 * job delivered again after its ack. The exit code is 1 if anything was lost or the engine's
 * counters disagree with what the consumers saw.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Consumer, createBus, type Delivery } from '../src/index.js';

interface Job {
  id: number;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? Number(process.argv[i + 1]) : fallback;
}

const minutes = arg('minutes', 1);
const intervalS = arg('interval', 5);
let seed = arg('seed', Date.now() % 2 ** 31) >>> 0;
/** mulberry32: reproducible randomness from --seed */
function random(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const PRODUCERS = 3;
const CONSUMERS = 4;
const bus = createBus({});
const dlq = bus.topic<Job>('jobs.dlq', { capacity: 4096, groups: ['ops'] });
const jobs = bus.topic<Job>('jobs', { capacity: 1024, overflow: 'block', groups: ['workers'], ackTimeoutMs: 200, maxDeliveries: 5, deadLetter: 'jobs.dlq' });

// Per-job bookkeeping for ids at or above `settledBelow` only; below it every job was acked or
// dead-lettered and is folded into the counters, so the soak's own memory stays flat.
const accepted = new Set<number>();
const acked = new Set<number>();
const deadLettered = new Set<number>();
let settledBelow = 0;
let acceptedFolded = 0;
let ackedFolded = 0;
let deadFolded = 0;
const isAcked = (id: number): boolean => acked.has(id) || (id < settledBelow && !deadBelow.has(id));
const deadBelow = new Set<number>(); // dead-lettered ids below the watermark (few)
function fold(): void {
  while (accepted.has(settledBelow) && (acked.has(settledBelow) || deadLettered.has(settledBelow))) {
    const id = settledBelow++;
    accepted.delete(id);
    acceptedFolded++;
    if (acked.has(id)) {
      acked.delete(id);
      ackedFolded++;
    }
    if (deadLettered.has(id)) {
      deadLettered.delete(id);
      deadBelow.add(id);
      deadFolded++;
    }
  }
}
const nAccepted = (): number => accepted.size + acceptedFolded;
const nAcked = (): number => acked.size + ackedFolded;
const nDead = (): number => deadLettered.size + deadFolded;
let duplicatesAfterAck = 0;
let doubleHeld = 0;
let crashes = 0;
let restarts = 0;
const heldNow = new Set<number>();
let producing = true;
let chaos = true;
const started = Date.now();
const deadline = started + minutes * 60_000;
let nextId = 0;

async function producer(): Promise<void> {
  while (producing) {
    const id = nextId++;
    await jobs.publish({ id });
    accepted.add(id);
    if (random() < 0.05) await sleep(1);
  }
}

async function worker(slot: number): Promise<void> {
  for (;;) {
    const c: Consumer<Job> = jobs.consumer({ group: 'workers', prefetch: 8 });
    const mine = new Set<number>();
    const restartAt = Date.now() + 1000 + random() * 3000;
    let crashed = false;
    for (;;) {
      const d: Delivery<Job> | undefined = await c.recvTimeout(100);
      if (d === undefined) {
        if (!producing && !chaos) break;
        if (Date.now() > restartAt && chaos) break;
        continue;
      }
      const id = d.value.id;
      if (isAcked(id)) duplicatesAfterAck++;
      if (heldNow.has(id)) doubleHeld++;
      heldNow.add(id);
      mine.add(id);
      const r = chaos ? random() : 0;
      if (r < 0.8) {
        if (random() < 0.1) await sleep(1 + random() * 4); // slow work
        heldNow.delete(id);
        mine.delete(id);
        if (d.ack()) acked.add(id);
        if (chaos && Date.now() > restartAt) break; // restart: close with whatever is still held
      } else if (r < 0.88) {
        heldNow.delete(id);
        mine.delete(id);
        d.nack(random() < 0.5 ? undefined : { delayMs: random() * 20 });
      } else if (r < 0.92) {
        heldNow.delete(id);
        mine.delete(id);
        d.term('soak');
      } else if (r < 0.995) {
        // hold without settling: the ack timeout returns it (the id leaves heldNow when it comes back)
        setTimeout(() => heldNow.delete(id), 150).unref();
      } else {
        crashed = true;
        break;
      }
    }
    for (const id of mine) heldNow.delete(id);
    c.close(); // returns everything still held (a crash, or a restart)
    if (crashed) crashes++;
    else restarts++;
    if (!producing && !chaos && jobs.stats().groups.workers.pending === 0 && jobs.stats().groups.workers.lag === 0) return;
    await sleep(random() * 20);
    void slot;
  }
}

async function deadLetterReader(): Promise<void> {
  const c = dlq.consumer({ group: 'ops', prefetch: 256 });
  for (;;) {
    const d = await c.recvTimeout(200);
    if (d === undefined) {
      if (!producing && !chaos && jobs.stats().groups.workers.pending === 0 && jobs.stats().groups.workers.lag === 0) return;
      continue;
    }
    if (deadLettered.has(d.value.id) || deadBelow.has(d.value.id)) duplicatesAfterAck++;
    deadLettered.add(d.value.id);
    d.ack();
  }
}

function lostNow(final: boolean): number {
  if (!final) return duplicatesAfterAck;
  let lost = duplicatesAfterAck;
  fold();
  for (const id of accepted) if (acked.has(id) === deadLettered.has(id)) lost++; // neither, or both
  for (const id of deadBelow) if (acked.has(id)) lost++;
  return lost;
}

function line(final = false): string {
  fold();
  const g = jobs.stats().groups.workers;
  const mib = (process.memoryUsage().heapUsed / 2 ** 20).toFixed(1);
  const s = ((Date.now() - started) / 1000).toFixed(0).padStart(5);
  return `${s}s accepted=${nAccepted()} acked=${nAcked()} redelivered=${g.redelivered} dead-lettered=${nDead()} in-flight=${g.pending} crashes=${crashes} restarts=${restarts} lost=${lostNow(final)} heap=${mib}MiB`;
}

console.log(`soak: ${minutes} min, ${PRODUCERS} producers, ${CONSUMERS} consumers, seed ${seed}`);
const ticker = setInterval(() => console.log(line()), intervalS * 1000);
const producers = Array.from({ length: PRODUCERS }, () => producer());
const workers = Array.from({ length: CONSUMERS }, (_, i) => worker(i));
const reader = deadLetterReader();

await sleep(Math.max(0, deadline - Date.now()));
producing = false;
await Promise.all(producers);
chaos = false; // drain: consumers ack everything from now on
const drainStart = Date.now();
while (Date.now() - drainStart < 60_000) {
  const g = jobs.stats().groups.workers;
  if (g.pending === 0 && g.lag === 0 && nAcked() + nDead() >= nAccepted()) break;
  await sleep(50);
}
await Promise.race([Promise.all([...workers, reader]), sleep(5_000)]);
clearInterval(ticker);

const g = jobs.stats().groups.workers;
const lost = lostNow(true);
const mismatch: string[] = [];
if (g.acked !== nAcked()) mismatch.push(`group acked ${g.acked} != acks seen ${nAcked()}`);
if (g.deadLettered !== nDead()) mismatch.push(`group deadLettered ${g.deadLettered} != dead letters received ${nDead()}`);
if (jobs.stats().published !== nAccepted()) mismatch.push(`published ${jobs.stats().published} != accepted ${nAccepted()}`);
if (doubleHeld > 0) mismatch.push(`${doubleHeld} deliveries of a job already held by another consumer`);
console.log(line(true));
console.log(`final: accepted=${nAccepted()} acked=${nAcked()} dead-lettered=${nDead()} lost=${lost} ${mismatch.length === 0 ? 'counters agree' : mismatch.join('; ')}`);
process.exit(lost === 0 && mismatch.length === 0 ? 0 : 1);
