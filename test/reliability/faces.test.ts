/**
 * Random programs against the push faces (`values()`, `messages()`), which take the engine's
 * fastest paths: a value or a Delivery handed over inside `publish`, the lane that holds no slot
 * state while a synchronous downstream runs, runs of batch appends. Subscribers ack, nack, hold,
 * unsubscribe and publish from inside their callbacks; other members join, seek and leave.
 * Overflow is `block` or `drop-oldest` (where a re-entrant publish may evict a message still in a
 * callback). After each program a final member drains the durable group (a `recv` loop, or first a
 * lone `values({ group })` member that must take everything left without a further publish), and then:
 * - every published message was settled in the group exactly once (acked, or dead-lettered
 *   after `maxDeliveries`; at least once when the program seeks back), the group holds nothing
 *   and its counters add up;
 * - each private `values()` subscription saw exactly the messages published while it was
 *   subscribed, in order, once each (under `drop-oldest`: some of them, in order);
 * - every Delivery a subscriber got was for a message of the topic, with a delivery count that
 *   never went backwards for an offset.
 */
import fc from 'fast-check';
import type { Subscription } from 'rxjs';
import { describe, it } from 'vitest';
import { expect } from './cheap-expect.js';
import { createBus, type Delivery, type Topic } from '../../src/index.js';
import { FACES_RUNS, report, SEED, TIMEOUT } from './config.js';

type Act = 'ack' | 'nack' | 'hold' | 'unsubscribe' | 'publish';

type Op =
  | { kind: 'publish'; n: number }
  | { kind: 'batch'; n: number }
  | { kind: 'values' }
  | { kind: 'messages'; prefetch: number; acts: Act[] }
  | { kind: 'groupValues'; acts: Act[] }
  | { kind: 'release' }
  | { kind: 'unsubscribe'; which: number }
  | { kind: 'seek'; back: number };

const actArb = fc.constantFrom<Act>('ack', 'ack', 'ack', 'nack', 'hold', 'unsubscribe', 'publish');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('publish' as const), n: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('batch' as const), n: fc.integer({ min: 1, max: 9 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('values' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('messages' as const), prefetch: fc.integer({ min: 1, max: 4 }), acts: fc.array(actArb, { minLength: 1, maxLength: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('groupValues' as const), acts: fc.array(actArb, { minLength: 1, maxLength: 6 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unsubscribe' as const), which: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('seek' as const), back: fc.nat(3) }) },
);

interface Program {
  capacity: number;
  overflow: 'block' | 'drop-oldest';
  maxDeliveries: number;
  ops: Op[];
  /** How the group is drained at the end: a `recv` loop, or a lone `values({ group })` member first. */
  drain: 'recv' | 'values';
}

const programArb: fc.Arbitrary<Program> = fc.record({
  capacity: fc.integer({ min: 1, max: 8 }),
  overflow: fc.constantFrom<'block' | 'drop-oldest'>('block', 'block', 'drop-oldest'),
  maxDeliveries: fc.constantFrom(Infinity, 3),
  ops: fc.array(opArb, { minLength: 1, maxLength: 25 }),
  drain: fc.constantFrom<'recv' | 'values'>('recv', 'values'),
});

/** One private `values()` subscription and what it must see. */
interface Watcher {
  sub: Subscription;
  seen: number[];
  from: number;
  to: number | undefined;
}

async function run(p: Program): Promise<void> {
  const bus = createBus();
  const t: Topic<number> = bus.topic<number>('t', { capacity: p.capacity, overflow: p.overflow, groups: ['g'], maxDeliveries: p.maxDeliveries, deadLetter: 'dlq' });
  const dlq = bus.topic<number>('dlq', { capacity: 1 << 12, groups: ['dead'] });
  let value = 0;
  const settled = new Map<number, string>(); // offset → how it was settled in group g
  const held: Delivery<number>[] = [];
  const subs: Subscription[] = [];
  const watchers: Watcher[] = [];
  const lastCount = new Map<number, number>();
  let reentrant = 0;

  const publishOne = (): void => {
    const v = value++;
    if (!t.tryPublish(v)) void t.publish(v);
  };
  const record = (d: Delivery<number>): void => {
    expect(d.value, 'a delivery carries the value published at its offset').toBe(d.offset);
    expect(d.deliveryCount, `delivery count of ${d.offset} never goes back`).toBeGreaterThanOrEqual(lastCount.get(d.offset) ?? 1);
    lastCount.set(d.offset, d.deliveryCount);
  };
  const settle = (d: Delivery<number>, how: 'ack' | 'nack'): void => {
    if (how === 'ack' && d.ack()) {
      expect(settled.has(d.offset), `offset ${d.offset} settled twice`).toBe(false);
      settled.set(d.offset, 'acked');
    } else if (how === 'nack') d.nack();
  };
  /** A subscriber's reaction: the k-th callback does acts[k % acts.length]. */
  const react = (acts: Act[], sub: () => Subscription | undefined) => {
    let k = 0;
    return (d: Delivery<number>): void => {
      record(d);
      const act = acts[k++ % acts.length];
      if (act === 'ack') settle(d, 'ack');
      else if (act === 'nack') settle(d, 'nack');
      else if (act === 'hold') held.push(d);
      else if (act === 'unsubscribe') {
        held.push(d); // unsubscribing leaves it held (until its ack timeout): settling it later counts
        sub()?.unsubscribe();
      } else {
        settle(d, 'ack');
        if (reentrant++ < 50) publishOne(); // publish from inside the callback
      }
    };
  };

  for (const op of p.ops) {
    switch (op.kind) {
      case 'publish':
        for (let i = 0; i < op.n; i++) publishOne();
        break;
      case 'batch': {
        const vs = Array.from({ length: op.n }, () => value++);
        void t.publishBatch(vs);
        break;
      }
      case 'values': {
        const w: Watcher = { sub: undefined as unknown as Subscription, seen: [], from: t.tail, to: undefined };
        w.sub = t.values().subscribe((v) => w.seen.push(v));
        watchers.push(w);
        break;
      }
      case 'messages': {
        let s: Subscription | undefined;
        s = t.messages({ group: 'g', prefetch: op.prefetch }).subscribe(react(op.acts, () => s));
        subs.push(s);
        break;
      }
      case 'groupValues': {
        let s: Subscription | undefined;
        let k = 0;
        s = t.values({ group: 'g' }).subscribe((v) => {
          const act = op.acts[k++ % op.acts.length];
          if (act === 'unsubscribe') s?.unsubscribe();
          else if (act === 'publish' && reentrant++ < 50) publishOne();
          if (!(s?.closed ?? false)) settled.set(v, 'acked'); // settled once the callback returns, unless it left
        });
        subs.push(s);
        break;
      }
      case 'release':
        for (const d of held.splice(0)) settle(d, 'ack');
        break;
      case 'unsubscribe': {
        const all = [...subs, ...watchers.map((w) => w.sub)];
        const s = all[op.which % Math.max(1, all.length)];
        s?.unsubscribe();
        const w = watchers.find((x) => x.sub === s);
        if (w !== undefined && w.to === undefined) w.to = t.tail;
        break;
      }
      case 'seek': {
        // a seek moves the group's next delivery; everything outstanding becomes stale: the
        // messages at and after the new position are delivered (and settled) again
        const c = t.consumer({ group: 'g' });
        const to = Math.max(t.stats().groups.g.committed - op.back, 0);
        const from = Math.max(to, t.stats().head); // where the seek lands (clamped to what is retained)
        for (const off of [...settled.keys()]) if (off >= from) settled.delete(off);
        for (const off of [...lastCount.keys()]) if (off >= from) lastCount.delete(off); // counted afresh after a seek
        c.seek(to); // (joining and seeking may admit waiting publishers: what they settle counts)
        c.close();
        break;
      }
    }
    await Promise.resolve();
  }
  for (const w of watchers) {
    if (w.to === undefined) w.to = t.tail;
    w.sub.unsubscribe();
  }
  for (const s of subs) s.unsubscribe();
  for (const d of held.splice(0)) settle(d, 'ack'); // those a seek or a return made stale are no-ops

  if (p.drain === 'values') {
    // a fresh values({ group }) member alone must take everything the group still has (its
    // redeliveries included) and admit every waiting publisher, with no further publish
    const sub = t.values({ group: 'g' }).subscribe((v) => settled.set(v, 'acked'));
    for (let i = 0; i < 50; i++) {
      const g = t.stats().groups.g;
      if (g.pending === 0 && g.next >= t.tail && t.tail === value) break;
      await new Promise((r) => setImmediate(r));
    }
    sub.unsubscribe();
    const g = t.stats().groups.g;
    expect(g.pending, 'a lone values() member drained the group').toBe(0);
    expect(t.tail, 'every waiting publish went in').toBe(value);
  }

  // drain the group; publishers still waiting for room go in as it drains
  const c = t.consumer({ group: 'g', prefetch: 1 << 12 });
  for (let round = 0; round < 100; round++) {
    const d = await c.recvTimeout(0);
    if (d === undefined) {
      await new Promise((r) => setImmediate(r));
      if (t.stats().groups.g.next >= t.tail && (await c.recvTimeout(0)) === undefined) break;
      continue;
    }
    record(d);
    settle(d, 'ack');
    round = 0;
  }
  const s = t.stats();
  const g = s.groups.g;
  expect(s.tail, 'every publish went in').toBe(value);
  expect(g.pending, 'the group holds nothing').toBe(0);
  expect(g.committed, 'the group settled everything').toBe(s.tail);
  const block = p.overflow === 'block';
  if (block) expect(g.missed, 'nothing is missed under block').toBe(0);
  // the dead letters, by original offset
  const dead = new Set<number>();
  const dc = dlq.consumer({ group: 'dead', prefetch: 1 << 12 });
  for (let d = dc.tryRecv(); d !== undefined; d = dc.tryRecv()) dead.add(Number(d.headers['x-original-offset']));
  const sought = p.ops.some((o) => o.kind === 'seek');
  for (let off = 0; off < s.tail; off++) {
    const a = settled.has(off);
    const b = dead.has(off);
    if (sought) expect(a || b || !block, `offset ${off} was settled`).toBe(true);
    else if (block) expect(a !== b, `offset ${off} was settled exactly once (acked ${a}, dead-lettered ${b})`).toBe(true);
    else expect(a && b, `offset ${off} was not both acked and dead-lettered`).toBe(false);
  }
  if (!sought) expect(g.acked + g.deadLettered + g.missed, 'every message has one fate').toBe(s.published);
  for (const w of watchers) {
    const want: number[] = [];
    for (let v = w.from; v < (w.to ?? w.from); v++) want.push(v);
    if (block) expect(w.seen, 'a values() subscription sees what was published while it was subscribed, in order, once').toEqual(want);
    else expect(w.seen.every((v, k) => want.includes(v) && (k === 0 || v > w.seen[k - 1])), 'drop-oldest: a subsequence of its window, in order').toBe(true);
  }
  c.close();
}

describe('property: push faces with direct hand-offs, lanes and re-entrancy', () => {
  it(
    'every message is settled once, counters add up, private subscriptions see exactly their window in order',
    async () => {
      let runs = 0;
      const started = Date.now();
      await fc.assert(
        fc.asyncProperty(programArb, async (p) => {
          runs++;
          await run(p);
        }),
        { numRuns: FACES_RUNS, seed: SEED },
      );
      report(`faces: ${runs} programs, ${Date.now() - started} ms`);
    },
    TIMEOUT,
  );
});

/**
 * Liveness of the low-water mark: a producer awaiting `publish()` on a full `block` topic, and a
 * consumer on any face that holds a sliding window of unacked messages (acking `batch` of them
 * whenever it holds `hold`), must never stall, whatever the capacity, prefetch and window.
 */
describe('property: blocked publishers and sliding-window consumers never stall', () => {
  const faces = ['readable', 'consume', 'recv', 'messages'] as const;
  const planArb = fc.record({
    face: fc.constantFrom(...faces),
    capacity: fc.integer({ min: 1, max: 8 }),
    prefetch: fc.integer({ min: 1, max: 10 }),
    hold: fc.integer({ min: 1, max: 8 }),
    batch: fc.integer({ min: 1, max: 8 }),
    n: fc.integer({ min: 1, max: 40 }),
  });
  const stalled = (): Promise<'stalled'> => new Promise((r) => setTimeout(() => r('stalled'), 300));

  it(
    'every value arrives, in order, on every face',
    async () => {
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(planArb, async (p) => {
          runs++;
          const hold = Math.min(p.hold, p.capacity, p.prefetch); // holding more than the ring or the window can never complete
          const batch = Math.min(p.batch, hold);
          const t = createBus().topic<number>('t', { capacity: p.capacity, groups: ['g'] });
          const producer = (async () => {
            for (let i = 0; i < p.n; i++) await t.publish(i);
          })();
          const seen: number[] = [];
          const window: Delivery<number>[] = [];
          const take = (d: Delivery<number>): void => {
            seen.push(d.value);
            window.push(d);
            if (window.length >= hold || seen.length === p.n) window.splice(0, seen.length === p.n ? window.length : batch).forEach((x) => x.ack());
          };
          if (p.face === 'messages') {
            const sub = t.messages({ group: 'g', prefetch: p.prefetch }).subscribe(take);
            const done = await Promise.race([producer.then(async () => {
              while (seen.length < p.n) await new Promise((r) => setTimeout(r, 0));
            }), stalled()]);
            sub.unsubscribe();
            expect(done, `messages() stalled after ${seen.length} of ${p.n}`).not.toBe('stalled');
          } else {
            const c = t.consumer({ group: 'g', prefetch: p.prefetch });
            const reader = p.face === 'readable' ? t.readable({ group: 'g', prefetch: p.prefetch }).getReader() : undefined;
            const it = p.face === 'consume' ? t.consume({ group: 'g', prefetch: p.prefetch })[Symbol.asyncIterator]() : undefined;
            if (reader !== undefined || it !== undefined) c.close();
            while (seen.length < p.n) {
              const next: Promise<Delivery<number> | undefined> =
                reader !== undefined ? reader.read().then((r) => r.value) : it !== undefined ? it.next().then((r) => (r.done ? undefined : r.value)) : c.recv();
              const r = await Promise.race([next, stalled()]);
              expect(r, `${p.face} stalled after ${seen.length} of ${p.n}`).not.toBe('stalled');
              if (r === 'stalled' || r === undefined) break;
              take(r);
            }
            await reader?.cancel();
            await it?.return?.();
            c.close();
          }
          await producer;
          expect(seen).toEqual(Array.from({ length: p.n }, (_, i) => i));
        }),
        { numRuns: Math.max(100, Math.floor(FACES_RUNS / 5)), seed: SEED },
      );
      report(`no stall: ${runs} producer/consumer plans`);
    },
    TIMEOUT,
  );
});
