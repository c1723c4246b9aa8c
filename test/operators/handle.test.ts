import { lastValueFrom, map, Subject, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, createBus, type Delivery } from '../../src/index.js';
import { type HandleOutcome, handle } from '../../src/operators/index.js';
import { settle, virtualTime } from '../helpers.js';
import { deferred, fake, testScheduler } from './fake.js';

describe('handle (marbles)', () => {
  it('acks each delivery its function returns for, emits the outcome, completes with the source', () => {
    const a = fake(1);
    const b = fake(2);
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a--b--|', { a, b });
      expectObservable(source.pipe(handle((n: number) => n * 10))).toBe('-x--y--|', {
        x: { ok: true, delivery: a, result: 10 },
        y: { ok: true, delivery: b, result: 20 },
      });
      expectSubscriptions(source.subscriptions).toBe('^------!');
    });
    expect([a.calls, b.calls]).toEqual([['ack'], ['ack']]);
  });

  it('nacks with no delay on failure when there is no retry policy', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const error = new Error('boom');
      const a = fake(1);
      const source = cold('-a-|', { a });
      const out = source.pipe(
        handle(() => {
          throw error;
        }),
      );
      expectObservable(out).toBe('-x-|', { x: { ok: false, delivery: a, error, action: 'nack', retryDelayMs: 0 } });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('nacks with the retry policy delay computed from deliveryCount, and terms once maxAttempts is reached', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const first = fake('x', { deliveryCount: 1 });
      const third = fake('x', { deliveryCount: 3 });
      const fourth = fake('x', { deliveryCount: 4 });
      const source = cold('-a-b-c|', { a: first, b: third, c: fourth });
      const out = source.pipe(
        handle(
          () => {
            throw new Error('nope');
          },
          { retry: { delayMs: 100, backoff: 'exponential', maxDelayMs: 350, maxAttempts: 4 } },
        ),
        map((o) => (o.ok ? 'ok' : `${o.action}:${o.retryDelayMs}`)),
      );
      expectObservable(out).toBe('-x-y-z|', { x: 'nack:100', y: 'nack:350', z: 'term:0' });
      expectSubscriptions(source.subscriptions).toBe('^-----!');
    });
  });

  it('settles as the outcome says: nack delays and the term reason', () => {
    const first = fake('x', { deliveryCount: 1 });
    const second = fake('x', { deliveryCount: 2 });
    const last = fake('x', { deliveryCount: 3 });
    const src = new Subject<Delivery<string>>();
    src
      .pipe(
        handle(
          () => {
            throw new Error('nope');
          },
          { retry: { delayMs: 50, backoff: 'fixed', maxAttempts: 3 } },
        ),
      )
      .subscribe();
    src.next(first);
    src.next(second);
    src.next(last);
    expect([first.calls, second.calls, last.calls]).toEqual([['nack:50'], ['nack:50'], ['term:handle gave up after 3 attempts: nope']]);
  });

  it('an error from the source errors the output and unsubscribes the source', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = fake(1);
      const source = cold('-a-#', { a });
      expectObservable(source.pipe(handle((n: number) => n))).toBe('-x-#', { x: { ok: true, delivery: a, result: 1 } });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('unsubscribing leaves the source and nacks what it still holds', () => {
    const held: Delivery<number>[] = [];
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = fake(1);
      const b = fake(2);
      held.push(a, b);
      const source = cold('-a-b---', { a, b });
      // an async function never settles on virtual time: both stay in flight / buffered
      expectObservable(source.pipe(handle(() => new Promise<never>(() => undefined))), '^----!').toBe('-------');
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
    expect(held.map((d) => (d as ReturnType<typeof fake>).calls)).toEqual([['nack'], ['nack']]);
  });

  it('validates options synchronously with ConfigError naming the option', () => {
    expect(() => handle(() => 1, { concurrency: 0 })).toThrow(ConfigError);
    expect(() => handle(() => 1, { concurrency: 0 })).toThrow('`concurrency` must be an integer from 1 to 1048576, got `0` (number)');
    expect(() => handle(() => 1, { retry: { backoff: 'linear' as 'fixed' } })).toThrow(/retry\.backoff/);
    expect(() => handle(() => 1, { retry: { jitter: 2 } })).toThrow(/retry\.jitter/);
    expect(() => handle(() => 1, { retries: 3 } as never)).toThrow(/`retries` is not an option of handle options/);
    expect(() => handle(42 as never)).toThrow(/`fn` must be a function/);
  });
});

describe('handle (real topic)', () => {
  it('concurrency 4 over 10 000 messages, 10% failing twice: each acked exactly once, none lost, in flight ≤ 4, deliveryCount shows the retries', async () => {
    const N = 10_000;
    const bus = createBus();
    const t = bus.topic<number>('jobs', { capacity: 16_384, groups: ['workers'] });
    await t.publishBatch(Array.from({ length: N }, (_, i) => i));
    await t.close(); // the group drains what is retained, then the stream completes
    const calls = new Map<number, number>();
    let inFlight = 0;
    let maxInFlight = 0;
    const outcomes = await lastValueFrom(
      t.messages({ group: 'workers', prefetch: 16 }).pipe(
        handle(
          async (n: number) => {
            inFlight++;
            maxInFlight = Math.max(maxInFlight, inFlight);
            const call = (calls.get(n) ?? 0) + 1;
            calls.set(n, call);
            await new Promise((r) => setImmediate(r));
            inFlight--;
            if (n % 10 === 0 && call <= 2) throw new Error(`transient ${n}`);
            return n;
          },
          { concurrency: 4, retry: { delayMs: 1, backoff: 'fixed' } },
        ),
        toArray(),
      ),
    );
    const ok = outcomes.filter((o): o is Extract<HandleOutcome<number, number>, { ok: true }> => o.ok);
    const failed = outcomes.filter((o) => !o.ok);
    expect(ok.length).toBe(N);
    expect(new Set(ok.map((o) => o.result)).size).toBe(N);
    expect(failed.length).toBe(2 * (N / 10));
    expect(failed.every((o) => !o.ok && o.action === 'nack' && o.retryDelayMs === 1)).toBe(true);
    for (const o of ok) expect(o.delivery.deliveryCount).toBe(o.result % 10 === 0 ? 3 : 1);
    expect(maxInFlight).toBe(4);
    expect(t.stats().groups.workers).toMatchObject({ acked: N, nacked: 2 * (N / 10), redelivered: 2 * (N / 10), pending: 0, committed: N, deadLettered: 0 });
  });

  it('a poison message ends in the dead-letter topic after maxDeliveries, with its offset and reason, while the rest keeps flowing', () => {
    const vt = virtualTime();
    const bus = createBus({ scheduler: vt.scheduler });
    const t = bus.topic<number>('orders', { groups: ['billing'], maxDeliveries: 3, deadLetter: 'orders.dlq' });
    const dlq = bus.topic<number>('orders.dlq', { groups: ['ops'] });
    const handled: number[] = [];
    t.messages({ group: 'billing', prefetch: 8 })
      .pipe(
        handle(
          (n: number) => {
            if (n === 13) throw new Error('poison');
            handled.push(n);
          },
          { retry: { delayMs: 10, backoff: 'fixed' } },
        ),
      )
      .subscribe();
    for (let i = 0; i < 20; i++) t.tryPublish(i);
    expect(handled.length).toBe(19); // the others did not wait for the poison's retries
    expect(dlq.stats().tail).toBe(0);
    vt.advance(10);
    vt.advance(10);
    for (let i = 20; i < 25; i++) t.tryPublish(i);
    expect(handled.length).toBe(24);
    const dead = dlq.consumer({ group: 'ops' }).tryRecv();
    expect(dead?.value).toBe(13);
    expect(dead?.headers).toMatchObject({
      'x-dead-letter-reason': 'max-deliveries',
      'x-original-topic': 'orders',
      'x-original-offset': '13',
      'x-deliveries': '3',
    });
    expect(t.stats().groups.billing).toMatchObject({ committed: 25, pending: 0, deadLettered: 1 });
  });

  it('a retry policy that gives up terms the message: reason `terminated`, the error in the detail header', () => {
    const vt = virtualTime();
    const bus = createBus({ scheduler: vt.scheduler });
    const t = bus.topic<string>('t', { groups: ['g'], deadLetter: 'dlq' });
    const dlq = bus.topic<string>('dlq', { groups: ['ops'] });
    const seen: number[] = [];
    t.messages({ group: 'g' })
      .pipe(
        handle(
          (_v: string, d) => {
            seen.push(d.deliveryCount);
            throw new Error('bad input');
          },
          { retry: { delayMs: 100, backoff: 'exponential', maxAttempts: 3 } },
        ),
      )
      .subscribe();
    t.tryPublish('x');
    vt.advance(99);
    expect(seen).toEqual([1]);
    vt.advance(1); // 100 ms after the first failure
    expect(seen).toEqual([1, 2]);
    vt.advance(199);
    expect(seen).toEqual([1, 2]);
    vt.advance(1); // 200 ms after the second
    expect(seen).toEqual([1, 2, 3]);
    const dead = dlq.consumer({ group: 'ops' }).tryRecv();
    expect(dead?.headers).toMatchObject({
      'x-dead-letter-reason': 'terminated',
      'x-original-offset': '0',
      'x-deliveries': '3',
      'x-dead-letter-detail': 'handle gave up after 3 attempts: bad input',
    });
  });

  it('unsubscribing mid-flight aborts the signal and returns unsettled deliveries to the group, where another member gets them', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    await t.publishBatch([1, 2, 3, 4]);
    const signals: AbortSignal[] = [];
    const gate = deferred();
    const sub = t
      .messages({ group: 'g', prefetch: 4 })
      .pipe(
        handle(
          async (_n: number, _d, signal) => {
            signals.push(signal);
            await gate.promise;
          },
          { concurrency: 2 },
        ),
      )
      .subscribe();
    const other = t.consumer({ group: 'g' });
    expect(signals.length).toBe(2); // 2 in flight, 2 waiting for a slot
    expect(other.tryRecv()).toBeUndefined(); // all four are held by the first member
    sub.unsubscribe();
    expect(signals.every((s) => s.aborted)).toBe(true);
    const got = [other.tryRecv(), other.tryRecv(), other.tryRecv(), other.tryRecv()];
    expect(got.map((d) => [d?.value, d?.deliveryCount])).toEqual([
      [1, 2],
      [2, 2],
      [3, 2],
      [4, 2],
    ]);
    gate.resolve();
    await settle();
    expect(got.every((d) => d?.settled === false)).toBe(true); // the late completions settled nothing
    expect(t.stats().groups.g).toMatchObject({ acked: 0, pending: 4 });
  });

  it('prefetch bounds what handle holds: a fast producer never makes it buffer more than prefetch - concurrency', async () => {
    const t = createBus().topic<number>('t', { capacity: 4096, groups: ['g'] });
    const gates: Array<() => void> = [];
    let started = 0;
    t.messages({ group: 'g', prefetch: 6 })
      .pipe(
        handle(
          () => {
            started++;
            return new Promise<void>((r) => gates.push(r));
          },
          { concurrency: 2, maxBuffered: 4 }, // would error if more than 4 waited
        ),
      )
      .subscribe({ error: (e) => expect.fail(String(e)) });
    await t.publishBatch(Array.from({ length: 1000 }, (_, i) => i));
    expect(started).toBe(2);
    expect(t.stats().groups.g.pending).toBe(6);
    while (gates.length > 0) {
      gates.shift()?.();
      await settle();
    }
    expect(t.stats().groups.g).toMatchObject({ acked: 1000, pending: 0 });
  });

  it('errors with ConfigError when more than maxBuffered deliveries wait for a slot', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    await t.publishBatch([1, 2, 3, 4]);
    let error: unknown;
    t.messages({ group: 'g', prefetch: 4 })
      .pipe(handle(() => new Promise(() => undefined), { concurrency: 1, maxBuffered: 2 }))
      .subscribe({ error: (e) => (error = e) });
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).option).toBe('maxBuffered');
    expect(t.stats().groups.g).toMatchObject({ members: 0, pending: 4 }); // all returned
  });

  it('the signal option aborts calls in flight and errors the stream with its reason', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    await t.publishBatch([1, 2]);
    const ac = new AbortController();
    const signals: AbortSignal[] = [];
    let error: unknown;
    t.messages({ group: 'g' })
      .pipe(
        handle(
          (_n: number, _d, s) => {
            signals.push(s);
            return new Promise(() => undefined);
          },
          { signal: ac.signal },
        ),
      )
      .subscribe({ error: (e) => (error = e) });
    ac.abort(new Error('shutting down'));
    expect(signals[0].aborted).toBe(true);
    expect((error as Error).message).toBe('shutting down');
    expect(t.stats().groups.g).toMatchObject({ members: 0, pending: 2 });
  });

  it('keeps outcome order for a synchronous function when settling re-enters the source', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    await t.publishBatch([0, 1, 2, 3, 4, 5]);
    const results = await lastValueFrom(
      t.messages({ group: 'g', prefetch: 1 }).pipe(
        handle((n: number) => n),
        map((o) => (o.ok ? o.result : -1)),
        take(6),
        toArray(),
      ),
    );
    expect(results).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
