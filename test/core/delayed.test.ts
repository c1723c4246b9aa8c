import { firstValueFrom, take, toArray, type SchedulerLike, Subscription, VirtualTimeScheduler } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, createBus, type Delivery } from '../../src/index.js';
import { fileStorage } from '../../src/node/index.js';
import { prng, settle, virtualTime } from '../helpers.js';
import { DEEP } from '../reliability/config.js';
import { cleanTempDirs, tempDir } from '../node/helpers.js';

afterEach(cleanTempDirs);

/** A scheduler over `inner` that counts the timers pending at once (the most ever, and now). */
function countingScheduler(inner: SchedulerLike): SchedulerLike & { pending: number; most: number; scheduled: number } {
  const s = {
    pending: 0,
    most: 0,
    scheduled: 0,
    now: () => inner.now(),
    schedule(work: (this: unknown, state?: unknown) => void, delay?: number, state?: unknown): Subscription {
      let open = true;
      const done = (): void => {
        if (open) {
          open = false;
          s.pending--;
        }
      };
      s.scheduled++;
      s.pending++;
      if (s.pending > s.most) s.most = s.pending;
      const sub = inner.schedule(function (this: unknown, st?: unknown) {
        done();
        work.call(this, st);
      }, delay, state);
      sub.add(done);
      return sub;
    },
  };
  return s as SchedulerLike & typeof s;
}

describe('delayed messages (delayMs, deliverAt)', () => {
  it('take their offset at publish and go to no group before their time, then out in offset order among what is due', async () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<string>('t', { groups: ['g'] });
    expect(await t.publish('a', { delayMs: 100 })).toBe(0);
    expect(await t.publish('b')).toBe(1);
    expect(await t.publish('c', { delayMs: 50 })).toBe(2);
    expect(await t.publish('d', { deliverAt: vt.now() + 50 })).toBe(3);
    const c = t.consumer({ group: 'g' });
    const b = c.tryRecv();
    expect(b?.value).toBe('b');
    b?.ack();
    expect(c.tryRecv()).toBeUndefined();
    expect(t.stats()).toMatchObject({ size: 4, delayed: 3, nextDueAt: 50 });
    vt.advance(49);
    expect(c.tryRecv()).toBeUndefined();
    vt.advance(1);
    const due = [c.tryRecv(), c.tryRecv(), c.tryRecv()];
    expect(due.map((d) => d?.value)).toEqual(['c', 'd', undefined]);
    expect(due.slice(0, 2).map((d) => d?.deliveryCount)).toEqual([1, 1]);
    vt.advance(50);
    const a = await c.recv();
    expect(a).toMatchObject({ value: 'a', offset: 0, deliveryCount: 1, redelivered: false });
    for (const d of [a, ...due]) d?.ack();
    expect(t.stats()).toMatchObject({ delayed: 0, groups: { g: { committed: 4, lag: 0, pending: 0 } } });
    expect(t.stats().nextDueAt).toBeUndefined();
  });

  it('a pending recv is woken by the timer; redeliveries still go first', async () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<string>('t', { groups: ['g'] });
    const c = t.consumer({ group: 'g' });
    await t.publish('late', { delayMs: 10 });
    await t.publish('x');
    const x = c.tryRecv();
    x?.nack();
    const waiting = c.recv();
    expect((await waiting)?.value).toBe('x'); // the redelivery, at once
    const next = c.recv();
    vt.advance(10);
    expect((await next)?.value).toBe('late');
  });

  it('TTL counts from publish: a message that expires before it is due is never delivered, and is counted', async () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<string>('t', { groups: ['g'] });
    await t.publish('gone', { delayMs: 100, ttlMs: 50 });
    await t.publish('kept', { delayMs: 100, ttlMs: 150 });
    const c = t.consumer({ group: 'g' });
    expect(c.tryRecv()).toBeUndefined();
    vt.advance(100);
    const d = c.tryRecv();
    expect(d?.value).toBe('kept');
    d?.ack();
    expect(c.tryRecv()).toBeUndefined();
    expect(t.stats()).toMatchObject({ expired: 1, groups: { g: { expired: 1, committed: 2, acked: 1 } } });
  });

  it('a group that starts after the message came due, or seeks back, gets it at once; a seek does not bring one early', async () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<number>('t', { groups: ['g'] });
    await t.publish(0, { delayMs: 100 });
    await t.publish(1);
    const c = t.consumer({ group: 'g' });
    c.tryRecv()?.ack();
    c.seek(0);
    expect(c.tryRecv()?.value).toBe(1); // still not due
    vt.advance(100);
    const late = t.consumer({ group: 'h', from: 'earliest' });
    expect([late.tryRecv()?.value, late.tryRecv()?.value]).toEqual([0, 1]);
    expect(c.tryRecv()?.value).toBe(0);
  });

  it('every face follows the order: recvBatch, messages(), values(), readable(), consume()', async () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<number>('t');
    const seen = { batch: [] as number[], messages: [] as number[], values: [] as number[], readable: [] as number[], consume: [] as number[] };
    const batcher = t.consumer({ group: 'batch' });
    const m = t.messages({ group: 'messages' }).subscribe((d) => {
      seen.messages.push(d.value);
      d.ack();
    });
    const v = t.values({ group: 'values' }).subscribe((x) => seen.values.push(x));
    const reader = t.readable({ group: 'readable' }).getReader();
    const iter = t.consume({ group: 'consume' })[Symbol.asyncIterator]();
    // due at 30, 10, 20, now, 10: delivered 3, then 1 and 4 (due together, offset order), 2, 0
    await t.publish(0, { delayMs: 30 });
    await t.publish(1, { delayMs: 10 });
    await t.publish(2, { delayMs: 20 });
    await t.publish(3);
    await t.publish(4, { delayMs: 10 });
    const pull = async (): Promise<void> => {
      const r = await reader.read();
      seen.readable.push((r.value as Delivery<number>).value);
      (r.value as Delivery<number>).ack();
      const n = await iter.next();
      seen.consume.push((n.value as Delivery<number>).value);
      (n.value as Delivery<number>).ack();
    };
    for (const step of [0, 10, 10, 10]) {
      vt.advance(step);
      const got = await batcher.recvBatch(10);
      seen.batch.push(...got.map((d) => (d.ack(), d.value)));
      await pull();
      if (step === 10 && seen.consume.length === 2) await pull(); // 1 and 4 came due together
      await settle();
    }
    const order = [3, 1, 4, 2, 0];
    expect(seen).toEqual({ batch: order, messages: order, values: order, readable: order, consume: order });
    m.unsubscribe();
    v.unsubscribe();
  });

  /** Delayed messages of the ordering test: 100 000 with RINGBUS_DEEP=1. */
  const MANY = DEEP ? 100_000 : 20_000;
  it(`${MANY} delayed messages with random due times go out in due order (ties by offset) with one timer at a time`, async () => {
    const vt = virtualTime();
    const scheduler = countingScheduler(vt.scheduler);
    const t = createBus({ scheduler }).topic<number>('t', { capacity: 1 << 17, ackTimeoutMs: Infinity });
    const rand = prng(30);
    const n = MANY;
    const due: number[] = [];
    for (let i = 0; i < n; i++) {
      const delay = Math.floor(rand() * 1_000_000);
      due.push(delay);
      expect(t.tryPublish(i, { delayMs: delay })).toBe(true);
    }
    const got: number[] = [];
    const sub = t.values({ from: 'earliest' }).subscribe((x) => got.push(x));
    expect(t.stats().delayed).toBe(n);
    vt.advance(1_000_000);
    sub.unsubscribe();
    const expected = [...due.keys()].sort((a, b) => due[a] - due[b] || a - b);
    expect(got.length).toBe(n);
    expect(got).toEqual(expected);
    expect(scheduler.most).toBeLessThanOrEqual(2); // the delay timer and the clock's cache
    expect(t.stats()).toMatchObject({ delayed: 0 });
  });

  it('durable topics keep delays across a restart; a message due while the process was down goes out on reopen', async () => {
    const dir = tempDir();
    const vt = virtualTime();
    const bus = createBus({ scheduler: vt.scheduler, storage: fileStorage(dir, { fsync: 'never' }) });
    const t = bus.topic<string>('t', { groups: ['g'] });
    await t.publish('soon', { delayMs: 100 });
    await t.publish('later', { delayMs: 1000 });
    await t.publish('now');
    await bus.close();

    const vt2 = new VirtualTimeScheduler();
    vt2.frame = 500; // the process comes back at 500: `soon` came due meanwhile
    const again = createBus({ scheduler: vt2, storage: fileStorage(dir, { fsync: 'never' }) });
    const t2 = again.topic<string>('t', { groups: ['g'] });
    expect(t2.stats()).toMatchObject({ delayed: 1, nextDueAt: 1000 });
    const c = t2.consumer({ group: 'g' });
    expect([c.tryRecv()?.value, c.tryRecv()?.value, c.tryRecv()]).toEqual(['soon', 'now', undefined]);
    const later = c.recv();
    vt2.maxFrames = 1000;
    vt2.flush();
    expect((await later)?.value).toBe('later');
    await again.close();
  });

  it('publishBatch takes the batch delay and per-entry delays', async () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<string>('t', { groups: ['g'] });
    await t.publishBatch(['x', 'y'], { delayMs: 20 });
    await t.publishBatch([{ value: 'p', delayMs: 10 }, { value: 'q' }], { entries: true });
    const c = t.consumer({ group: 'g' });
    expect(c.tryRecv()?.value).toBe('q');
    vt.advance(10);
    expect(c.tryRecv()?.value).toBe('p');
    vt.advance(10);
    expect((await c.recvBatch(5)).map((d) => d.value)).toEqual(['x', 'y']);
  });

  it('bad delays are a ConfigError naming the option, as a rejected promise; nothing is published', async () => {
    const t = createBus().topic<number>('t');
    for (const o of [{ delayMs: -1 }, { delayMs: Number.NaN }, { delayMs: Infinity }, { deliverAt: '5' }, { delayMs: 1, deliverAt: 5 }]) {
      const p = t.publish(1, o as never);
      await expect(p).rejects.toBeInstanceOf(ConfigError);
      await expect(p).rejects.toThrow(/delayMs|deliverAt/);
    }
    expect(() => t.tryPublish(1, { delayMs: -5 })).toThrow(ConfigError);
    await expect(t.publishBatch([{ value: 1, delayMs: -1 }], { entries: true })).rejects.toThrow(/entries\[0\]\.delayMs/);
    expect(t.stats().published).toBe(0);
  });

  it('closing drains delayed messages at their time', async () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<string>('t', { groups: ['g'] });
    await t.publish('a', { delayMs: 10 });
    const c = t.consumer({ group: 'g' });
    const all = firstValueFrom(t.values({ group: 'g2', from: 'earliest' }).pipe(take(1), toArray()));
    await t.close();
    const r = c.recv();
    vt.advance(10);
    const d = await r;
    expect(d?.value).toBe('a');
    d?.ack();
    expect(await c.recv()).toBeUndefined();
    expect(await all).toEqual(['a']);
  });
});
