/**
 * Engine bugs found by the reliability suite (model-based runs, fuzzing, timer probes), each
 * reduced to its smallest repro and named after the bug; these tests keep them fixed. Each test's
 * name states the rule; the root cause is in the message of the commit that fixed it.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createBus, isRingbusError } from '../../src/index.js';
import { virtualTime } from '../helpers.js';

const root = join(import.meta.dirname, '..', '..');

/** Runs a probe script in a child process; resolves its exit code and last stdout line. */
function child(script: string, args: string[], flags: string[] = []): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...flags, '--no-warnings', '--conditions=ringbus-source', '--import', 'tsx', join(import.meta.dirname, script), ...args], { cwd: root, timeout: 30_000 }, (err, stdout) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code as number) : 1) : 0;
      resolve({ code, out: stdout.trim().split('\n').pop() ?? '' });
    });
  });
}

/** Sum of the per-group fates: every accepted message must land in exactly one. */
function fates(g: { acked: number; deadLettered: number; expired: number; filtered: number; missed: number }): number {
  return g.acked + g.deadLettered + g.expired + g.filtered + g.missed;
}

describe('regressions found by the model-based suite', () => {
  it('committed offset moves past an expired message the cursor skipped (floorStuckOnSkippedTombstone)', () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<number>('t', { groups: ['g'] });
    t.tryPublish(0);
    t.tryPublish(1, { ttlMs: 10 }); // expires behind a live head: a tombstone in the middle
    vt.advance(11);
    const c = t.consumer({ group: 'g' });
    c.tryRecv()?.ack();
    expect(c.tryRecv()).toBeUndefined(); // skips offset 1 (expired)
    // everything is settled: committed must be 2 and lag 0 (the engine reports 1 and 1)
    expect(t.stats().groups.g).toMatchObject({ next: 2, pending: 0, committed: 2, lag: 0 });
  });

  it('grow never shrinks capacity below the messages groups still need (growShrinksBelowNeeded)', async () => {
    const t = createBus().topic<number>('t', { capacity: 3, overflow: 'grow', maxCapacity: 9, growthFactor: 3, shrinkThreshold: 0.5, groups: ['a', 'b'] });
    await t.publishBatch([0, 1, 2, 3]); // grows to 9
    const a = t.consumer({ group: 'a' });
    a.tryRecv()?.ack(); // needed is still 4 (group b has settled nothing)
    const s = t.stats();
    expect(s.size).toBeLessThanOrEqual(s.capacity); // engine: size 4, capacity 3
  });

  it('seek over an expired message the group never reached still counts it (seekSkipsExpiredUncounted)', () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<number>('t', { groups: ['g'] });
    t.tryPublish(0);
    t.tryPublish(1, { ttlMs: 10 });
    vt.advance(11);
    t.consumer({ group: 'g' }).seek(2);
    const g = t.stats().groups.g;
    expect(g.missed).toBe(1);
    expect(fates(g)).toBe(2); // engine: 1 — offset 1 is in no counter
  });

  it('seek over a held message that expired counts it (seekSkipsExpiredUncounted)', () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<number>('t', { groups: ['g'] });
    t.tryPublish(0);
    t.tryPublish(1, { ttlMs: 10 });
    const c = t.consumer({ group: 'g' });
    c.tryRecv();
    c.tryRecv(); // holds 1
    vt.advance(11);
    c.seek(2);
    expect(fates(t.stats().groups.g)).toBe(2); // engine: 1
  });

  it('commit past an expired message the group never reached still counts it (commitSkipsExpiredUncounted)', () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<number>('t', { groups: ['g'] });
    t.tryPublish(0);
    t.tryPublish(1, { ttlMs: 10 });
    vt.advance(11);
    t.consumer({ group: 'g' }).commit(2);
    const g = t.stats().groups.g;
    expect(g.acked).toBe(1); // commit acks offset 0
    expect(fates(g)).toBe(2); // engine: 1 — offset 1 is in no counter
  });

  it('an expired message returned over maxDeliveries by a closing consumer is counted (deadLetterOfExpiredUncounted)', () => {
    const vt = virtualTime();
    const bus = createBus({ scheduler: vt.scheduler });
    const t = bus.topic<number>('t', { maxDeliveries: 1, groups: ['g'], deadLetter: 'dlq' });
    t.tryPublish(0);
    t.tryPublish(1, { ttlMs: 10 });
    const c = t.consumer({ group: 'g' });
    c.tryRecv();
    c.tryRecv();
    vt.advance(11); // offset 1 expires while held, behind the live offset 0
    c.close(); // both come back over maxDeliveries: 0 is dead-lettered, 1 is settled silently
    const g = t.stats().groups.g;
    expect(g).toMatchObject({ pending: 0, deadLettered: 1 });
    expect(fates(g)).toBe(2); // engine: 1
  });

  it('an expired message timed out over maxDeliveries is counted (deadLetterOfExpiredUncounted)', () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<number>('t', { maxDeliveries: 1, ackTimeoutMs: 100, groups: ['g'], deadLetter: 'dlq' });
    t.tryPublish(0);
    t.tryPublish(1, { ttlMs: 10 });
    const c = t.consumer({ group: 'g' });
    c.tryRecv();
    c.tryRecv();
    vt.advance(200);
    expect(fates(t.stats().groups.g)).toBe(2); // engine: 1
  });

  it("ack: 'auto' delivery keeps its own key and headers when its settle admits a waiting publisher (autoAckDeliveryReadsRingAfterSettle)", async () => {
    const t = createBus().topic<string>('t', { capacity: 1, groups: ['g'] });
    t.tryPublish('x', { key: 'k1', headers: { h: '1' } });
    const waiting = t.publish('y', { key: 'k2', headers: { h: '2' } });
    const d = t.consumer({ group: 'g', ack: 'auto' }).tryRecv();
    await waiting;
    expect({ value: d?.value, key: d?.key, headers: d?.headers }).toEqual({ value: 'x', key: 'k1', headers: { h: '1' } }); // engine: key k2, headers of y
  });

  it("ack: 'auto' delivery reports deliveryCount 1 when its settle shrinks a grown topic (autoAckDeliveryReadsRingAfterSettle)", async () => {
    const t = createBus().topic<number>('t', { capacity: 1, overflow: 'grow', maxCapacity: 2, growthFactor: 1.5, shrinkThreshold: 0.75, groups: ['a'] });
    await t.publishBatch([0, 1]);
    const d = t.consumer({ group: 'a', ack: 'auto' }).tryRecv();
    expect(d?.deliveryCount).toBe(1); // engine: 0 (the slot was re-laid by the shrink)
  });

  it('a delay above 2^31 - 1 ms waits that long instead of firing every millisecond (timerOverflowSpins)', async () => {
    // recvTimeout(30 days) with nothing to receive, and a 30-day TTL, on the default asyncScheduler
    const r = await child('timer-overflow-child.ts', []);
    const p = JSON.parse(r.out) as { schedules: number; recvTimeoutResolvedEarly: boolean; ackTimedOutEarly: boolean };
    expect(p.recvTimeoutResolvedEarly).toBe(false); // engine: resolves undefined after ~1 ms
    expect(p.ackTimedOutEarly).toBe(false); // engine: ackTimeoutMs 1e10 times a delivery out within ~5 ms
    expect(p.schedules).toBeLessThan(10); // engine: ~280 timer runs in 300 ms (a 1 ms spin)
  });

  it('term(reason) with a reason that has no string form is a ConfigError, not a TypeError (termReasonNotValidated)', () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    t.tryPublish(1);
    const d = t.consumer({ group: 'g' }).tryRecv();
    let error: unknown;
    try {
      d?.term(Object.create(null) as string);
    } catch (e) {
      error = e;
    }
    expect(error === undefined || (isRingbusError(error) && error.code === 'ERR_CONFIG')).toBe(true); // engine: TypeError
  });

  it('a topic with a large capacity inside the documented range does not allocate it up front (eagerRingAllocation)', async () => {
    // capacity 2^26 (documented range: up to 2^30) holding 10 messages, in a 256 MiB heap
    const r = await child('big-ring-child.ts', [String(2 ** 26)], ['--max-old-space-size=256']);
    expect(r.code).toBe(0); // engine: out of memory while filling the ring's slot arrays
  }, 60_000);
});

describe('regressions found by the push-faces property (test/reliability/faces.test.ts)', () => {
  it('a batch whose rest waits for room is admitted by acks made during its own wake (batchRestMissedTheWake)', async () => {
    const t = createBus().topic<number>('t', { capacity: 1, groups: ['g'] });
    const got: number[] = [];
    t.messages({ group: 'g', prefetch: 1 }).subscribe((d) => {
      got.push(d.value);
      d.ack(); // frees the only slot while publishBatch is still waking the group
    });
    const p = t.publishBatch([0, 1, 2]);
    expect(got).toEqual([0, 1, 2]); // the rest went in as the subscriber acked, in the same turn
    expect(await p).toEqual([0, 1, 2]);
  });

  it('a message settled by another member while a lane hand-off is in its callback does not hold the committed offset back (laneFloorBehind)', () => {
    const t = createBus().topic<number>('t', { capacity: 4, groups: ['g'] });
    let first = true;
    t.values({ group: 'g' }).subscribe(() => {
      if (!first) return;
      first = false;
      t.values({ group: 'g' }).subscribe(() => {}); // a second member
      t.tryPublish(1); // goes to the second member and is settled there, inside this callback
    });
    t.tryPublish(0);
    expect(t.stats().groups.g).toMatchObject({ next: 2, committed: 2, pending: 0, acked: 2 });
  });
});

describe('regressions found reading the code (2026-11-23)', () => {
  it('a values() member joining a caught-up group gets the message a take(1) member returned (laneSkipsRedelivery)', async () => {
    const t = createBus().topic<string>('t', { capacity: 8, groups: ['g'] });
    const got: string[][] = [];
    t.values({ group: 'g' })
      .pipe(take(1))
      .subscribe((v) => got.push(['first', v]));
    t.tryPublish('x'); // take(1) completes inside its callback: 'x' goes back to the group
    expect(t.stats().groups.g).toMatchObject({ next: 1, pending: 1, nacked: 1 });
    t.values({ group: 'g' }).subscribe((v) => got.push(['second', v]));
    await new Promise((r) => setTimeout(r, 5));
    expect(got).toEqual([
      ['first', 'x'],
      ['second', 'x'],
    ]);
    expect(t.stats().groups.g).toMatchObject({ committed: 1, pending: 0, acked: 1, redelivered: 1 });
  });
});

describe('regressions found by the deep model run (2026-11-30)', () => {
  it('a delivery held when its message expires is counted expired in every group, also when the expiry admits waiting publishers (expiryClampLosesHeldState)', async () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<number>('t', { capacity: 4, groups: ['a', 'b'] });
    const b = t.consumer({ group: 'b' });
    const a1 = t.consumer({ group: 'a' });
    const a2 = t.consumer({ group: 'a' });
    t.tryPublish(0, { ttlMs: 10 });
    t.tryPublish(1, { ttlMs: 10 });
    t.tryPublish(2);
    t.tryPublish(3, { ttlMs: 10 }); // full
    const heldByB = b.tryRecv()!;
    const heldByA = a1.tryRecv()!;
    a2.tryRecv()!.ack();
    a2.tryRecv()!.ack();
    const waiting = t.publishBatch([4, 5, 6]);
    // 0, 1 and 3 expire: the head passes both groups' committed offsets. Clamping group a frees
    // room, and the waiting batch used to go in (re-laying the ring into more slots) before group
    // b was clamped: b's state for offset 0 was not carried over, and its delivery stayed pending
    vt.advance(11);
    await waiting;
    expect([heldByA.settled, heldByB.settled, heldByB.ack()]).toEqual([true, true, false]);
    for (const name of ['a', 'b'] as const) {
      const g = t.stats().groups[name];
      expect(g.pending, name).toBe(0);
      expect(fates(g), name).toBe(name === 'a' ? 3 : 2); // a: acked 1, 2, expired 0; b: expired 0, 1 (2 and 3 not reached: lag)
    }
    expect(t.stats().groups.b).toMatchObject({ expired: 2, committed: 2 });
  });
});
