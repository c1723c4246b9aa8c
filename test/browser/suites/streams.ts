// The operators' web-stream twins in a browser page: the platform's own ReadableStream,
// WritableStream and TransformStream, piped with pipeThrough/pipeTo, on real timers.
import { describe, expect, it } from 'vitest';
import { createBus, type Delivery, TopicFullError } from '../../../src/index.js';
import {
  bufferMessagesStream,
  deadLetterToStream,
  expireStream,
  filterMessagesStream,
  forwardToStream,
  type HandleOutcome,
  handleStream,
  publishToStream,
  valuesStream,
} from '../../../src/operators/index.js';

/** One macrotask turn: queued promise callbacks and stream steps run first. */
const turn = (): Promise<void> => new Promise((r) => setTimeout(r, 0));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const streamOf = <T>(items: T[]): ReadableStream<T> =>
  new ReadableStream({
    start(c) {
      for (const x of items) c.enqueue(x);
      c.close();
    },
  });

/** Everything `readable` yields, through a platform WritableStream. */
async function collect<T>(readable: ReadableStream<T>): Promise<T[]> {
  const out: T[] = [];
  await readable.pipeTo(new WritableStream({ write: (x) => void out.push(x) }));
  return out;
}

/** Acks each delivery and passes its value on. */
const ackEach = <T>(): TransformStream<Delivery<T>, T> =>
  new TransformStream({
    transform(d, c) {
      d.ack();
      c.enqueue(d.value);
    },
  });

describe('the platform streams', () => {
  it('a topic readable is the browser ReadableStream, a twin is the browser TransformStream', () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    expect(t.readable({ group: 'g' })).toBeInstanceOf(ReadableStream);
    expect(t.writable()).toBeInstanceOf(WritableStream);
    expect(handleStream(() => undefined)).toBeInstanceOf(TransformStream);
  });
});

describe('handleStream', () => {
  it('concurrency 4 over 500 messages, every 10th failing twice: each acked once, in flight ≤ 4, retries counted in deliveryCount', async () => {
    const N = 500;
    const t = createBus().topic<number>('jobs', { capacity: 1024, groups: ['w'] });
    await t.publishBatch(Array.from({ length: N }, (_, i) => i));
    await t.close();
    const calls = new Map<number, number>();
    let inFlight = 0;
    let maxInFlight = 0;
    const outcomes = await collect(
      t.readable({ group: 'w', prefetch: 16 }).pipeThrough(
        handleStream(
          async (n: number) => {
            maxInFlight = Math.max(maxInFlight, ++inFlight);
            const call = (calls.get(n) ?? 0) + 1;
            calls.set(n, call);
            await turn();
            inFlight--;
            if (n % 10 === 0 && call <= 2) throw new Error('transient');
            return n;
          },
          { concurrency: 4, retry: { delayMs: 1, backoff: 'fixed' } },
        ),
      ),
    );
    const ok = outcomes.filter((o) => o.ok) as Extract<HandleOutcome<number, number>, { ok: true }>[];
    expect(ok.length).toBe(N);
    expect(new Set(ok.map((o) => o.result)).size).toBe(N);
    expect(outcomes.length - ok.length).toBe(2 * (N / 10));
    for (const o of ok) expect(o.delivery.deliveryCount).toBe(o.result % 10 === 0 ? 3 : 1);
    expect(maxInFlight).toBe(4);
    expect(t.stats().groups.w).toMatchObject({ acked: N, nacked: 2 * (N / 10), redelivered: 2 * (N / 10), pending: 0, committed: N });
  });

  it('a poison message is dead-lettered after maxDeliveries while the rest flows', async () => {
    const bus = createBus();
    const t = bus.topic<number>('t', { groups: ['g'], maxDeliveries: 3, deadLetter: 'dlq' });
    const dlq = bus.topic<number>('dlq', { groups: ['ops'] });
    await t.publishBatch(Array.from({ length: 50 }, (_, i) => i));
    await t.close();
    const outcomes = await collect(
      t.readable({ group: 'g', prefetch: 8 }).pipeThrough(
        handleStream(
          (n: number) => {
            if (n === 7) throw new Error('poison');
            return n;
          },
          { concurrency: 2, retry: { delayMs: 1, backoff: 'fixed' } },
        ),
      ),
    );
    expect(outcomes.filter((o) => o.ok).length).toBe(49);
    expect(t.stats().groups.g).toMatchObject({ acked: 49, deadLettered: 1, pending: 0 });
    const dead = dlq.consumer({ group: 'ops' }).tryRecv();
    expect([dead?.value, dead?.headers['x-dead-letter-reason'], dead?.headers['x-deliveries']]).toEqual([7, 'max-deliveries', '3']);
  });

  it('cancelling the reader gives every unsettled delivery back to the group', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    await t.publishBatch([1, 2, 3, 4]);
    const signals: AbortSignal[] = [];
    const reader = t
      .readable({ group: 'g', prefetch: 4 })
      .pipeThrough(
        handleStream(
          (_n: number, _d, signal) => {
            signals.push(signal);
            return new Promise<never>(() => undefined);
          },
          { concurrency: 2 },
        ),
      )
      .getReader();
    const pending = reader.read();
    await turn();
    expect(signals.length).toBe(2);
    await reader.cancel('stop');
    await pending;
    await turn();
    expect(t.stats().groups.g.members).toBe(0);
    const other = t.consumer({ group: 'g' });
    expect([other.tryRecv(), other.tryRecv(), other.tryRecv(), other.tryRecv()].map((d) => d?.value)).toEqual([1, 2, 3, 4]);
  });
});

/** Reads one chunk through `twin`, cancels, and checks the source consumer closed and returned what it held. */
async function cancellationReachesSource<O>(make: () => TransformStream<Delivery<number>, O>, read: boolean): Promise<void> {
  const t = createBus().topic<number>('t', { groups: ['g'] });
  await t.publishBatch([1, 2, 3]);
  const reader = t.readable({ group: 'g', prefetch: 3 }).pipeThrough(make()).getReader();
  if (read) await reader.read();
  else {
    void reader.read();
    await turn();
  }
  expect(t.stats().groups.g.members).toBe(1);
  await reader.cancel();
  await sleep(50); // past the timers of the twins under test
  expect(t.stats().groups.g.members).toBe(0);
  const other = t.consumer({ group: 'g' });
  const back: number[] = [];
  for (let d = other.tryRecv(); d; d = other.tryRecv()) back.push(d.value);
  expect(back.length).toBe(3 - t.stats().groups.g.acked);
}

describe('web-stream twins: cancelling the reader reaches the source', () => {
  it('handleStream', () => cancellationReachesSource(() => handleStream(() => new Promise<never>(() => undefined)), false));
  it('filterMessagesStream', () => cancellationReachesSource(() => filterMessagesStream((n: number) => n > 0), true));
  it('expireStream', () => cancellationReachesSource(() => expireStream<number>(60_000), true));
  it('bufferMessagesStream', () => cancellationReachesSource(() => bufferMessagesStream<number>(10, 60_000), false));
  it('valuesStream', () => cancellationReachesSource(() => valuesStream<number>(), true));
  it('deadLetterToStream', () => {
    const dlq = createBus().topic<number>('dlq', { capacity: 1, groups: ['ops'] }); // full after one: the second waits
    return cancellationReachesSource(() => deadLetterToStream(dlq), true);
  });
  it('forwardToStream', () => {
    const dst = createBus().topic<number>('dst', { capacity: 1, groups: ['ops'] });
    return cancellationReachesSource(() => forwardToStream(dst), true);
  });
});

// Chromium does not call a transformer's `cancel` hook, so a twin that stops work in that hook
// does not stop it there: these cases show what that leaves running.
describe('web-stream twins without the transformer cancel hook', () => {
  it('Chromium does not call the transformer cancel hook', async () => {
    let called = 0;
    const ts = new TransformStream({ cancel: () => void called++ } as Transformer);
    await ts.readable.cancel('stop');
    expect(called).toBe(0);
  });

  it('bufferMessagesStream: a batch timer that fires after a cancel enqueues nothing and throws nothing', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    await t.publishBatch([1]);
    const reader = t.readable({ group: 'g' }).pipeThrough(bufferMessagesStream<number>(10, 20)).getReader();
    void reader.read();
    await turn();
    await reader.cancel();
    await sleep(50);
  });

  it.fails('handleStream: cancelling the reader aborts the signal of a handler in flight', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    await t.publishBatch([1]);
    const signals: AbortSignal[] = [];
    const reader = t
      .readable({ group: 'g' })
      .pipeThrough(
        handleStream((_n: number, _d, signal) => {
          signals.push(signal);
          return new Promise<never>(() => undefined);
        }),
      )
      .getReader();
    void reader.read();
    await turn();
    await reader.cancel('stop');
    await sleep(10);
    expect(signals.map((s) => s.aborted)).toEqual([true]);
  });
});

describe('filterMessagesStream, expireStream, valuesStream', () => {
  it('filterMessagesStream passes matches and acks the rest', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    await t.publishBatch([1, 2, 3, 4, 5, 6]);
    await t.close();
    const got = await collect(t.readable({ group: 'g' }).pipeThrough(filterMessagesStream((n: number) => n % 2 === 0)).pipeThrough(ackEach()));
    expect(got).toEqual([2, 4, 6]);
    expect(t.stats().groups.g).toMatchObject({ acked: 6, pending: 0, committed: 6 });
  });

  it('expireStream drops (acks) and counts deliveries older than ms, by the real clock', async () => {
    const t = createBus().topic<string>('t', { groups: ['g'] });
    t.tryPublish('old');
    await sleep(80);
    t.tryPublish('new');
    await t.close();
    const ages: number[] = [];
    const fresh = expireStream<string>(40, { onExpired: (_d, age) => ages.push(age) });
    expect(await collect(t.readable({ group: 'g' }).pipeThrough(fresh).pipeThrough(ackEach()))).toEqual(['new']);
    expect(fresh.expired).toBe(1);
    expect(ages[0]).toBeGreaterThanOrEqual(40);
    expect(t.stats().groups.g).toMatchObject({ acked: 2, pending: 0 });
  });

  it('valuesStream acks a value when the reader comes back for the next, and the last at the end', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    await t.publishBatch([1, 2, 3]);
    await t.close();
    const reader = t.readable({ group: 'g' }).pipeThrough(valuesStream<number>()).getReader();
    expect((await reader.read()).value).toBe(1);
    expect(t.stats().groups.g.acked).toBe(0);
    expect((await reader.read()).value).toBe(2);
    expect(t.stats().groups.g.acked).toBe(1);
    expect((await reader.read()).value).toBe(3);
    expect((await reader.read()).done).toBe(true);
    expect(t.stats().groups.g).toMatchObject({ acked: 3, committed: 3, pending: 0 });
  });
});

describe('bufferMessagesStream', () => {
  it('batches by size, and closes a short batch when the real timer fires', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    await t.publishBatch([0, 1, 2, 3, 4]);
    const reader = t.readable({ group: 'g', prefetch: 10 }).pipeThrough(bufferMessagesStream<number>(2, 30)).getReader();
    const a = (await reader.read()).value!;
    const b = (await reader.read()).value!;
    expect([a.values, b.values]).toEqual([
      [0, 1],
      [2, 3],
    ]);
    const started = performance.now();
    const c = (await reader.read()).value!;
    expect(c.values).toEqual([4]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(20);
    expect(a.ackAll() + b.ackAll()).toBe(4);
    expect(c.nackAll()).toBe(1);
    expect(t.stats().groups.g).toMatchObject({ acked: 4, nacked: 1 });
    await reader.cancel();
  });
});

describe('publishToStream, deadLetterToStream, forwardToStream', () => {
  it("publishToStream: a platform ReadableStream piped into a topic under 'block' waits for room and emits offsets in order", async () => {
    const t = createBus().topic<number>('t', { capacity: 2, groups: ['g'] });
    const offsets: number[] = [];
    const piping = streamOf([10, 11, 12, 13, 14])
      .pipeThrough(publishToStream(t, { headers: { via: 'stream' } }))
      .pipeTo(new WritableStream({ write: (o) => void offsets.push(o) }));
    await turn();
    expect(offsets).toEqual([0, 1]);
    const c = t.consumer({ group: 'g' });
    const seen: number[] = [];
    while (seen.length < 5) {
      const d = await c.recv();
      expect(d!.headers).toEqual({ via: 'stream' });
      seen.push(d!.value);
      d!.ack();
    }
    await piping;
    expect(seen).toEqual([10, 11, 12, 13, 14]);
    expect(offsets).toEqual([0, 1, 2, 3, 4]);
    expect(t.stats().groups.g).toMatchObject({ acked: 5, pending: 0 });
  });

  it("publishToStream: under 'reject' a full topic errors the pipe with TopicFullError", async () => {
    const t = createBus().topic<number>('t', { capacity: 1, overflow: 'reject', groups: ['g'] });
    const err = await streamOf([1, 2])
      .pipeThrough(publishToStream(t))
      .pipeTo(new WritableStream())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TopicFullError);
  });

  it('deadLetterToStream publishes with the dead-letter headers and acks the source', async () => {
    const bus = createBus();
    const src = bus.topic<string>('src', { groups: ['g'] });
    const dlq = bus.topic<string>('dlq', { groups: ['ops'] });
    await src.publishBatch(['x', 'y']);
    await src.close();
    expect(await collect(src.readable({ group: 'g' }).pipeThrough(deadLetterToStream(dlq, { detail: 'manual' })))).toEqual([0, 1]);
    expect(src.stats().groups.g).toMatchObject({ acked: 2, pending: 0 });
    const dead = dlq.consumer({ group: 'ops' }).tryRecv();
    expect(dead?.headers).toMatchObject({ 'x-dead-letter-reason': 'terminated', 'x-original-topic': 'src', 'x-original-offset': '0', 'x-dead-letter-detail': 'manual' });
  });

  it('forwardToStream publishes map(value) with key and headers, and acks each source delivery once published', async () => {
    const bus = createBus();
    const src = bus.topic<number>('src', { groups: ['g'] });
    const dst = bus.topic<string>('dst', { groups: ['x'] });
    await src.publish(1, { key: 'a', headers: { h: '1' } });
    await src.publish(2);
    await src.close();
    const offsets = await collect(src.readable({ group: 'g' }).pipeThrough(forwardToStream(dst, { map: (n: number, d) => `${n}@${d.offset}` })));
    expect(offsets).toEqual([0, 1]);
    expect(src.stats().groups.g).toMatchObject({ acked: 2, pending: 0, committed: 2 });
    const x = dst.consumer({ group: 'x' });
    const first = x.tryRecv()!;
    expect([first.value, first.key, first.headers]).toEqual(['1@0', 'a', { h: '1' }]);
    expect(x.tryRecv()?.value).toBe('2@1');
  });

  it('a whole pipeline: readable → filter → handle, with nacks redelivered, counted in the source stats', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    await t.publishBatch(Array.from({ length: 20 }, (_, i) => i));
    await t.close();
    const tries = new Map<number, number>();
    const outcomes = await collect(
      t
        .readable({ group: 'g', prefetch: 4 })
        .pipeThrough(filterMessagesStream((n: number) => n % 2 === 1))
        .pipeThrough(
          handleStream(
            (n: number) => {
              const k = (tries.get(n) ?? 0) + 1;
              tries.set(n, k);
              if (n % 5 === 0 && k === 1) throw new Error('once');
              return n * 10;
            },
            { retry: { delayMs: 2, backoff: 'fixed' } },
          ),
        ),
    );
    expect(outcomes.filter((o) => o.ok).map((o) => (o as { result: number }).result).sort((a, b) => a - b)).toEqual([10, 30, 50, 70, 90, 110, 130, 150, 170, 190]);
    expect(t.stats().groups.g).toMatchObject({ acked: 20, nacked: 2, redelivered: 2, pending: 0 });
  });
});
