/**
 * Leak probe, run in a child process by leaks.test.ts:
 *   node --expose-gc --conditions=ringbus-source --import tsx test/reliability/leak-child.ts <scenario> <n>
 * Prints one JSON line: heap before/after (after forced GCs), abort listeners left on a real
 * AbortSignal (counted by a wrapper around add/removeEventListener), and timers pending.
 */
import { asyncScheduler, type SchedulerAction, type SchedulerLike } from 'rxjs';
import { channel } from '../../src/channel.js';
import { createBus, type Delivery } from '../../src/index.js';

const scenario = process.argv[2] ?? 'subscribe';
const n = Number(process.argv[3] ?? 100_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

async function heap(): Promise<number> {
  for (let i = 0; i < 6; i++) {
    gc?.();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}

const ac = new AbortController();
let listeners = 0;
let added = 0;
const add = ac.signal.addEventListener.bind(ac.signal);
const remove = ac.signal.removeEventListener.bind(ac.signal);
const live = new Set<unknown>();
ac.signal.addEventListener = ((type: string, l: EventListenerOrEventListenerObject, o?: AddEventListenerOptions | boolean) => {
  if (!live.has(l)) {
    live.add(l);
    listeners++;
    added++;
  }
  add(type, l, o);
}) as typeof add;
ac.signal.removeEventListener = ((type: string, l: EventListenerOrEventListenerObject, o?: EventListenerOptions | boolean) => {
  if (live.delete(l)) listeners--;
  remove(type, l, o);
}) as typeof remove;
const signal = ac.signal;

/** The real asyncScheduler, counting timers scheduled and not yet run or cancelled. */
let timersPending = 0;
const scheduler: SchedulerLike = {
  now: () => asyncScheduler.now(),
  schedule<S>(work: (this: SchedulerAction<S>, state?: S) => void, delay?: number, state?: S) {
    timersPending++;
    let done = false;
    const fin = (): void => {
      if (!done) {
        done = true;
        timersPending--;
      }
    };
    const sub = asyncScheduler.schedule(function (this: SchedulerAction<S>, st?: S) {
      fin();
      work.call(this, st);
    }, delay, state);
    sub.add(fin);
    return sub;
  },
};

const bus = createBus({ scheduler });
const topic = bus.topic<number>('t', { capacity: 64, groups: ['g'], ackTimeoutMs: 60_000 });
for (let i = 0; i < 32; i++) topic.tryPublish(i);

async function once(i: number): Promise<void> {
  switch (scenario) {
    case 'subscribe': {
      // alternate: grouped messages() (takes deliveries, nacked after the unsubscribe, which leaves them held), private values(), with a signal
      const got: Delivery<number>[] = [];
      const sub = i % 2 === 0 ? topic.messages({ group: 'g', prefetch: 2, signal }).subscribe((d) => got.push(d)) : topic.values({ signal }).subscribe(() => {});
      sub.unsubscribe();
      for (const d of got) d.nack();
      break;
    }
    case 'consumers': {
      const c = i % 3 === 0 ? topic.consumer({ signal }) : topic.consumer({ group: 'g', prefetch: 4, signal });
      const d: Delivery<number> | undefined = c.tryRecv();
      if (i % 5 === 0) d?.ack();
      if (i % 7 === 0) void c.recvTimeout(10_000, { signal }).catch(() => {}); // a waiter, flushed by close
      c.close();
      if (d !== undefined && i % 5 === 0) topic.tryPublish(i);
      break;
    }
    case 'readables': {
      const r = topic.readable({ group: 'g', prefetch: 2, signal });
      if (i % 2 === 0) {
        const reader = r.getReader();
        await reader.read();
        await reader.cancel();
      } else await r.cancel();
      break;
    }
    case 'closed-topics': {
      // a topic of its own bus, used once and closed: nothing may keep it (an ack-timeout sweep armed by the delivery)
      const t = createBus({ scheduler }).topic<number>('once', { ackTimeoutMs: 60_000 });
      const c = t.consumer({ group: 'g' });
      t.tryPublish(i);
      (await c.recv())?.ack();
      await t.close();
      break;
    }
    case 'closed-channels': {
      const [tx, rx] = channel<number>(16, { ackTimeoutMs: 60_000, scheduler });
      await tx.send(i);
      (await rx.recv())?.ack();
      tx.close();
      break;
    }
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
}

const warm = Math.min(10_000, n / 10);
for (let i = 0; i < warm; i++) await once(i);
const before = await heap();
const started = Date.now();
for (let i = 0; i < n; i++) await once(i);
const ms = Date.now() - started;
const after = await heap();
const s = topic.stats();
const timers = timersPending;
console.log(
  JSON.stringify({
    scenario,
    n,
    ms,
    before,
    after,
    growth: after - before,
    listenersLeft: listeners,
    listenersAdded: added,
    timers,
    subscribers: s.subscribers,
    groups: Object.keys(s.groups).length,
    pending: s.groups.g.pending,
  }),
);
