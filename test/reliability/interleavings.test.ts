/**
 * Async interleavings of a `channel()` explored with fast-check's scheduler (the JavaScript
 * analogue of loom): concurrent `send` on a full channel, `recv` waiters, aborts, receiver
 * crashes (close without ack), acks, nacks and the channel closing, resolved in every order
 * fast-check picks. After the scheduler is drained and the channel closed: no promise is left
 * hanging, nothing rejected unexpectedly, no message was held by two receivers at once, and
 * every message whose `send` resolved was acked exactly once; nothing else was ever delivered.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { expect } from './cheap-expect.js';
import { channel, type Consumer, createBus, type Delivery, isRingbusError, type Receiver, type Sender } from '../../src/index.js';
import { report, SCHEDULER_RUNS, SEED, TIMEOUT } from './config.js';

const macrotask = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Plan {
  capacity: number;
  prefetch: number;
  senders: { values: number; abortAt: number | undefined }[];
  receivers: { steps: ('ack' | 'nack' | 'crash' | 'abort')[] }[];
  closeEarly: boolean;
}

const planArb: fc.Arbitrary<Plan> = fc.record({
  capacity: fc.integer({ min: 1, max: 3 }),
  prefetch: fc.integer({ min: 1, max: 3 }),
  senders: fc.array(fc.record({ values: fc.integer({ min: 1, max: 4 }), abortAt: fc.option(fc.nat(3), { nil: undefined }) }), { minLength: 1, maxLength: 3 }),
  receivers: fc.array(fc.record({ steps: fc.array(fc.constantFrom<'ack' | 'nack' | 'crash' | 'abort'>('ack', 'ack', 'ack', 'nack', 'crash', 'abort'), { minLength: 1, maxLength: 8 }) }), {
    minLength: 1,
    maxLength: 3,
  }),
  closeEarly: fc.boolean(),
});

describe('interleavings: channel send/recv/abort/close/ack under fc.scheduler', () => {
  it(
    'no waiter hangs, no unexpected rejection, nothing held twice, every sent message acked exactly once',
    async () => {
      let runs = 0;
      let scheduled = 0;
      const started = Date.now();
      await fc.assert(
        fc.asyncProperty(fc.scheduler(), planArb, async (s, plan) => {
          runs++;
          const [tx0, rx0] = channel<number>(plan.capacity, { ackTimeoutMs: Infinity, prefetch: plan.prefetch });
          const problems: string[] = [];
          const sent = new Set<number>(); // send resolved
          const notSent = new Set<number>(); // send rejected (closed or aborted)
          const acked = new Set<number>();
          const held = new Map<number, Receiver<number>>(); // value -> receiver holding it now
          const actors: Promise<void>[] = [];
          const settledActors = new Set<Promise<void>>();
          const track = (p: Promise<void>): void => {
            const q: Promise<void> = p.then(
              (): void => {
                settledActors.add(q);
              },
              (e: unknown): void => {
                problems.push(`actor threw ${String(e)}`);
                settledActors.add(q);
              },
            );
            actors.push(q);
          };
          const tick = (label: string): Promise<string> => {
            scheduled++;
            return s.schedule(Promise.resolve(label));
          };

          // senders (clones of tx0), each sending its values in order
          const senders: Sender<number>[] = plan.senders.map(() => tx0.clone());
          tx0.close(); // the clones keep the channel open
          let next = 0;
          plan.senders.forEach((sp, i) => {
            const tx = senders[i];
            const values = Array.from({ length: sp.values }, () => next++);
            track(
              (async () => {
                for (let k = 0; k < values.length; k++) {
                  await tick(`send ${values[k]}`);
                  const ac = new AbortController();
                  if (sp.abortAt === k) void tick(`abort send ${values[k]}`).then(() => ac.abort());
                  try {
                    await tx.send(values[k], { signal: ac.signal });
                    sent.add(values[k]);
                  } catch (e) {
                    notSent.add(values[k]);
                    const ok = (isRingbusError(e) && e.code === 'ERR_CLOSED') || e === ac.signal.reason;
                    if (!ok) problems.push(`send ${values[k]} rejected with ${String(e)}`);
                  }
                }
                if (plan.closeEarly || i % 2 === 0) {
                  await tick(`close sender ${i}`);
                  tx.close();
                }
              })(),
            );
          });

          // receivers, each following its script of what to do with a delivery
          const receivers: Receiver<number>[] = [];
          const runReceiver = (rx: Receiver<number>, steps: Plan['receivers'][number]['steps']): Promise<void> =>
            (async () => {
              const mine: Delivery<number>[] = [];
              for (const step of steps) {
                await tick(`recv ${step}`);
                const ac = new AbortController();
                if (step === 'abort') void tick('abort recv').then(() => ac.abort());
                let d: Delivery<number> | undefined;
                try {
                  d = await rx.recv({ signal: ac.signal });
                } catch (e) {
                  if (e !== ac.signal.reason) problems.push(`recv rejected with ${String(e)}`);
                  continue;
                }
                if (d === undefined) return;
                if (notSent.has(d.value) && !sent.has(d.value)) problems.push(`delivered ${d.value} whose send was refused`);
                if (held.has(d.value)) problems.push(`${d.value} held by two receivers at once`);
                if (acked.has(d.value)) problems.push(`${d.value} delivered again after its ack`);
                held.set(d.value, rx);
                mine.push(d);
                await tick(`settle ${d.value}`);
                if (step === 'crash') {
                  for (const x of mine) if (!x.settled) held.delete(x.value);
                  rx.close();
                  return;
                }
                if (step === 'nack') {
                  held.delete(d.value);
                  if (!d.nack()) problems.push(`nack of held ${d.value} returned false`);
                } else {
                  held.delete(d.value);
                  if (!d.ack()) problems.push(`ack of held ${d.value} returned false`);
                  acked.add(d.value);
                }
              }
              for (const x of mine) if (!x.settled) held.delete(x.value);
              rx.close();
            })();
          plan.receivers.forEach((rp, i) => {
            const rx = i === 0 ? rx0 : rx0.resubscribe();
            receivers.push(rx);
            track(runReceiver(rx, rp.steps));
          });

          // let fast-check resolve everything in its order
          await s.waitAll();
          // then close every sender and drain with a fresh receiver that acks everything
          for (const tx of senders) tx.close();
          const drain = rx0.resubscribe();
          for (let guard = 0; guard < 100; guard++) {
            await s.waitAll();
            await macrotask();
            const allDone = settledActors.size === actors.length;
            let got = 0;
            for (let d = drain.tryRecv(); d !== undefined; d = drain.tryRecv()) {
              if (held.has(d.value)) problems.push(`${d.value} held twice (drain)`);
              if (acked.has(d.value)) problems.push(`${d.value} delivered again after its ack (drain)`);
              d.ack();
              acked.add(d.value);
              got++;
            }
            if (allDone && got === 0) break;
          }
          expect(await drain.recv(), 'closed and drained: recv resolves undefined').toBeUndefined();
          drain.close();
          for (let i = 0; i < 5 && settledActors.size < actors.length; i++) {
            await s.waitAll();
            await macrotask();
          }
          expect(settledActors.size, `hanging actors; schedule: ${s.report().map((t) => t.label).join(', ')}`).toBe(actors.length);
          expect(problems).toEqual([]);
          expect([...acked].sort((a, b) => a - b), 'every sent message acked exactly once').toEqual([...sent].sort((a, b) => a - b));
        }),
        { numRuns: SCHEDULER_RUNS, seed: SEED },
      );
      report(`interleavings: ${runs} scheduled runs, ${scheduled} scheduled steps, ${Date.now() - started} ms`);
    },
    TIMEOUT,
  );

  it(
    'topic: publish/publishBatch waiting on a full block topic, recv/recvBatch waiters, aborts, consumer close and topic close in any order',
    async () => {
      let runs = 0;
      const started = Date.now();
      await fc.assert(
        fc.asyncProperty(
          fc.scheduler(),
          fc.record({
            capacity: fc.integer({ min: 1, max: 3 }),
            pubs: fc.array(fc.record({ n: fc.integer({ min: 1, max: 3 }), abort: fc.boolean() }), { minLength: 1, maxLength: 4 }),
            cons: fc.array(fc.record({ batch: fc.integer({ min: 1, max: 3 }), abort: fc.boolean(), closeAfter: fc.integer({ min: 1, max: 4 }) }), { minLength: 1, maxLength: 3 }),
            closeTopicAt: fc.option(fc.nat(6), { nil: undefined }),
          }),
          async (s, plan) => {
            runs++;
            const t = createBus().topic<number>('t', { capacity: plan.capacity, groups: ['g'], ackTimeoutMs: Infinity });
            const problems: string[] = [];
            const published = new Set<number>();
            const maybe = new Set<number>(); // values of a batch that was refused part-way
            const acked = new Set<number>();
            const held = new Set<number>();
            const actors: Promise<unknown>[] = [];
            let settled = 0;
            const track = (p: Promise<unknown>): void => {
              actors.push(
                p.then(
                  () => settled++,
                  (e: unknown) => {
                    problems.push(`actor threw ${String(e)}`);
                    settled++;
                  },
                ),
              );
            };
            const ok = (e: unknown, ac?: AbortController): boolean => (isRingbusError(e) && e.code === 'ERR_CLOSED') || (ac !== undefined && e === ac.signal.reason);
            let v = 0;
            let steps = 0;
            for (const p of plan.pubs) {
              const values = Array.from({ length: p.n }, () => v++);
              track(
                (async () => {
                  await s.schedule(Promise.resolve(`publish ${values.join(',')}`));
                  const ac = new AbortController();
                  if (p.abort) void s.schedule(Promise.resolve('abort publish')).then(() => ac.abort());
                  try {
                    const offs = values.length === 1 ? [await t.publish(values[0], { signal: ac.signal })] : await t.publishBatch(values, { signal: ac.signal });
                    for (let k = 0; k < offs.length; k++) published.add(values[k]);
                  } catch (e) {
                    if (!ok(e, ac)) problems.push(`publish rejected with ${String(e)}`);
                    // publishBatch is ordered, not atomic (semantics.md): a prefix may be published
                    if (values.length > 1) for (const x of values) maybe.add(x);
                  }
                })(),
              );
            }
            if (plan.closeTopicAt !== undefined) {
              track(
                (async () => {
                  for (let k = 0; k <= plan.closeTopicAt!; k++) await s.schedule(Promise.resolve('yield'));
                  await t.close();
                })(),
              );
            }
            const consumers: Consumer<number>[] = [];
            for (const cp of plan.cons) {
              const c = t.consumer({ group: 'g', prefetch: 3 });
              consumers.push(c);
              track(
                (async () => {
                  const mine: Delivery<number>[] = [];
                  for (let k = 0; k < cp.closeAfter; k++) {
                    steps++;
                    await s.schedule(Promise.resolve(`recvBatch ${cp.batch}`));
                    const ac = new AbortController();
                    if (cp.abort) void s.schedule(Promise.resolve('abort recv')).then(() => ac.abort());
                    let ds: Delivery<number>[];
                    try {
                      ds = await c.recvBatch(cp.batch, { signal: ac.signal });
                    } catch (e) {
                      if (!ok(e, ac)) problems.push(`recvBatch rejected with ${String(e)}`);
                      continue;
                    }
                    if (ds.length === 0) return; // closed and drained
                    for (const d of ds) {
                      if (held.has(d.value)) problems.push(`${d.value} held twice at once`);
                      if (acked.has(d.value)) problems.push(`${d.value} delivered after its ack`);
                      held.add(d.value);
                      mine.push(d);
                    }
                    await s.schedule(Promise.resolve('ack'));
                    // ack the first, nack the rest (a consumer that waits while holding would wait on itself)
                    for (const [k, d] of ds.entries()) {
                      held.delete(d.value);
                      if (k === 0 ? d.ack() : d.nack()) {
                        if (k === 0) acked.add(d.value);
                      } else problems.push(`settle of held ${d.value} returned false`);
                    }
                  }
                  for (const d of mine) if (!d.settled) held.delete(d.value);
                  c.close(); // returns what it still holds
                })(),
              );
            }
            await s.waitAll();
            await t.close();
            const drain = t.consumer({ group: 'g', prefetch: 1000 });
            for (let guard = 0; guard < 50; guard++) {
              await s.waitAll();
              await macrotask();
              const allDone = settled === actors.length;
              let got = 0;
              for (let d = drain.tryRecv(); d !== undefined; d = drain.tryRecv()) {
                if (held.has(d.value)) problems.push(`${d.value} held twice (drain)`);
                d.ack();
                acked.add(d.value);
                got++;
              }
              if (allDone && got === 0) break;
            }
            const last = await Promise.race([drain.recv(), sleepMs(200).then(() => 'hangs' as const)]);
            expect(last, `closed and drained: recv resolves undefined (stats ${JSON.stringify(t.stats().groups.g)})`).toBeUndefined();
            expect(settled, 'no actor left hanging').toBe(actors.length);
            expect(problems).toEqual([]);
            for (const x of published) expect(acked.has(x), `published ${x} was acked`).toBe(true);
            for (const x of acked) expect(published.has(x) || maybe.has(x), `acked ${x} was published`).toBe(true);
            expect(acked.size, 'acked exactly once').toBe(t.stats().published);
            const g = t.stats().groups.g;
            expect({ pending: g.pending, lag: g.lag }).toEqual({ pending: 0, lag: 0 });
            void steps;
          },
        ),
        { numRuns: SCHEDULER_RUNS, seed: SEED },
      );
      report(`interleavings (topic): ${runs} scheduled runs, ${Date.now() - started} ms`);
    },
    TIMEOUT,
  );
});
