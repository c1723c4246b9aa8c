/**
 * Probe for the timer-overflow bug, run in a child process by regressions.test.ts: delays above
 * 2^31 - 1 ms (about 24.8 days) on the default asyncScheduler. Prints one JSON line.
 */
import { asyncScheduler, type SchedulerAction, type SchedulerLike } from 'rxjs';
import { createBus } from '../../src/index.js';

let schedules = 0;
const scheduler: SchedulerLike = {
  now: () => asyncScheduler.now(),
  schedule<S>(work: (this: SchedulerAction<S>, state?: S) => void, delay?: number, state?: S) {
    schedules++;
    return asyncScheduler.schedule(work, delay, state);
  },
};
const DAY = 24 * 3600_000;
const keepAlive = setInterval(() => {}, 1000);
const t = createBus({ scheduler }).topic<number>('t', { ttlMs: 30 * DAY, groups: ['g'] });
t.tryPublish(1); // arms the expiry timer 30 days ahead
const c = t.consumer({ group: 'g' });
const d = c.tryRecv(); // held: nothing else to receive
let early = false;
void c.recvTimeout(30 * DAY).then((x) => (early = x === undefined)); // must wait 30 days
// an ack timeout of ~116 days: its sweep interval (ackTimeoutMs / 4) is above 2^31 - 1 ms too
const t2 = createBus().topic<number>('t2', { ackTimeoutMs: 1e10, groups: ['g'] });
t2.tryPublish(1);
const held = t2.consumer({ group: 'g' }).tryRecv();
await new Promise((r) => setTimeout(r, 300));
const ackTimedOutEarly = held?.settled === true || t2.stats().groups.g.pending !== 1 || t2.consumer({ group: 'g' }).tryRecv() !== undefined;
clearInterval(keepAlive);
console.log(JSON.stringify({ schedules, recvTimeoutResolvedEarly: early, ackTimedOutEarly, delivered: d?.value ?? null, size: t.stats().size }));
c.close(); // its recvTimeout holds the process (as setTimeout would) until it ends
