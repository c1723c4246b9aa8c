import { describe, expect, it } from 'vitest';
import { createBus, type Delivery, TopicFullError } from '../../src/index.js';
import {
  bufferMessagesStream,
  deadLetterToStream,
  expireStream,
  filterMessagesStream,
  type HandleOutcome,
  handleStream,
  publishToStream,
  valuesStream,
} from '../../src/operators/index.js';
import { settle, virtualTime } from '../helpers.js';
import { deferred, readAll } from './fake.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A readable of `items`. */
const streamOf = <T>(items: T[]): ReadableStream<T> =>
  new ReadableStream({
    start(c) {
      for (const x of items) c.enqueue(x);
      c.close();
    },
  });

/** Acks each delivery and passes its value on. */
const ackEach = <T>(): TransformStream<Delivery<T>, T> =>
  new TransformStream({
    transform(d, c) {
      d.ack();
      c.enqueue(d.value);
    },
  });

describe('handleStream', () => {
  it('concurrency 4 over 2 000 messages through pipeThrough, 10% failing twice: each acked once, in flight ≤ 4, retries in deliveryCount', async () => {
    const N = 2_000;
    const t = createBus().topic<number>('jobs', { capacity: 4096, groups: ['w'] });
    await t.publishBatch(Array.from({ length: N }, (_, i) => i));
    await t.close();
    const calls = new Map<number, number>();
    let inFlight = 0;
    let maxInFlight = 0;
    const outcomes = await readAll(
      t.readable({ group: 'w', prefetch: 16 }).pipeThrough(
        handleStream(
          async (n: number) => {
            maxInFlight = Math.max(maxInFlight, ++inFlight);
            const call = (calls.get(n) ?? 0) + 1;
            calls.set(n, call);
            await tick();
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
    expect(t.stats().groups.w).toMatchObject({ acked: N, pending: 0, committed: N });
  });

  it('a poison message ends in the dead-letter topic after maxDeliveries while the rest flows', async () => {
    const bus = createBus();
    const t = bus.topic<number>('t', { groups: ['g'], maxDeliveries: 3, deadLetter: 'dlq' });
    const dlq = bus.topic<number>('dlq', { groups: ['ops'] });
    await t.publishBatch(Array.from({ length: 50 }, (_, i) => i));
    await t.close();
    const outcomes = await readAll(
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
    expect(outcomes.filter((o) => !o.ok).length).toBe(3);
    const dead = dlq.consumer({ group: 'ops' }).tryRecv();
    expect([dead?.value, dead?.headers['x-dead-letter-reason'], dead?.headers['x-original-offset'], dead?.headers['x-deliveries']]).toEqual([
      7,
      'max-deliveries',
      '7',
      '3',
    ]);
  });

  it('cancelling mid-flight aborts the signal, reaches the source, and another member gets the unsettled deliveries', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    await t.publishBatch([1, 2, 3, 4]);
    const signals: AbortSignal[] = [];
    const gate = deferred();
    const out = t.readable({ group: 'g', prefetch: 4 }).pipeThrough(
      handleStream(
        async (_n: number, _d, signal) => {
          signals.push(signal);
          await gate.promise;
        },
        { concurrency: 2 },
      ),
    );
    const reader = out.getReader();
    const pendingRead = reader.read();
    await settle();
    expect(signals.length).toBe(2);
    expect(t.stats().groups.g.members).toBe(1);
    await reader.cancel('stop');
    await pendingRead;
    await settle();
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(t.stats().groups.g.members).toBe(0);
    const other = t.consumer({ group: 'g' });
    const got = [other.tryRecv(), other.tryRecv(), other.tryRecv(), other.tryRecv()];
    expect(got.map((d) => d?.value)).toEqual([1, 2, 3, 4]);
    gate.resolve();
    await settle();
    expect(t.stats().groups.g.acked).toBe(0);
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
    await settle();
  }
  expect(t.stats().groups.g.members).toBe(1);
  await reader.cancel();
  await settle();
  expect(t.stats().groups.g.members).toBe(0);
  const other = t.consumer({ group: 'g' });
  const back: number[] = [];
  for (let d = other.tryRecv(); d; d = other.tryRecv()) back.push(d.value);
  expect(back.length).toBe(3 - t.stats().groups.g.acked);
}

describe('web-stream twins: cancellation reaches the source', () => {
  it('handleStream', () => cancellationReachesSource(() => handleStream(() => new Promise<never>(() => undefined)), false));
  it('filterMessagesStream', () => cancellationReachesSource(() => filterMessagesStream((n: number) => n > 0), true));
  it('expireStream', () => cancellationReachesSource(() => expireStream<number>(60_000), true));
  it('bufferMessagesStream', () => cancellationReachesSource(() => bufferMessagesStream<number>(10, 60_000), false));
  it('valuesStream', () => cancellationReachesSource(() => valuesStream<number>(), true));
  it('deadLetterToStream', () => {
    const dlq = createBus().topic<number>('dlq', { capacity: 1, groups: ['ops'] }); // full after one: the second waits
    return cancellationReachesSource(() => deadLetterToStream(dlq), true);
  });
});

describe('filterMessagesStream, expireStream, valuesStream', () => {
  it('filterMessagesStream passes matches and acks the rest', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    await t.publishBatch([1, 2, 3, 4]);
    await t.close();
    const reader = t.readable({ group: 'g' }).pipeThrough(filterMessagesStream((n: number) => n % 2 === 0)).getReader();
    const first = await reader.read();
    const second = await reader.read();
    expect([first.value?.value, second.value?.value]).toEqual([2, 4]);
    expect(t.stats().groups.g).toMatchObject({ acked: 2, pending: 2 }); // 1 and 3 were dropped and acked
    first.value?.ack();
    second.value?.ack();
    expect((await reader.read()).done).toBe(true);
    expect(t.stats().groups.g).toMatchObject({ acked: 4, pending: 0 });
  });

  it('expireStream drops (acks) and counts deliveries older than ms, on the topic scheduler', async () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<string>('t', { groups: ['g'] });
    t.tryPublish('old');
    vt.advance(100);
    t.tryPublish('new');
    await t.close();
    const seen: number[] = [];
    const fresh = expireStream<string>(50, { scheduler: vt.scheduler, onExpired: (_d, age) => seen.push(age) });
    const got = await readAll(t.readable({ group: 'g' }).pipeThrough(fresh).pipeThrough(ackEach()));
    expect(got).toEqual(['new']);
    expect(fresh.expired).toBe(1);
    expect(seen).toEqual([100]);
  });

  it('valuesStream acks a value when the reader comes back for the next, and the last one at the end', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    await t.publishBatch([1, 2, 3]);
    await t.close();
    const reader = t.readable({ group: 'g' }).pipeThrough(valuesStream<number>()).getReader();
    expect((await reader.read()).value).toBe(1);
    expect(t.stats().groups.g.acked).toBe(0); // the reader is still on it
    expect((await reader.read()).value).toBe(2);
    expect(t.stats().groups.g.acked).toBe(1);
    expect((await reader.read()).value).toBe(3);
    expect((await reader.read()).done).toBe(true);
    expect(t.stats().groups.g).toMatchObject({ acked: 3, committed: 3, pending: 0 });
  });

  it('valuesStream: a reader that stops leaves its value unsettled, and the source returns it', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    await t.publishBatch([1, 2, 3]);
    for await (const n of t.readable({ group: 'g' }).pipeThrough(valuesStream<number>()) as unknown as AsyncIterable<number>) {
      if (n === 2) break;
    }
    await settle();
    expect(t.stats().groups.g).toMatchObject({ acked: 1, members: 0 });
    const again = t.consumer({ group: 'g' }).tryRecv();
    expect([again?.value, again?.deliveryCount]).toEqual([2, 2]);
  });

  it('valuesStream with prefetch 1 does not deadlock: the ack comes with the read, not with the next delivery', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    await t.publishBatch([1, 2, 3]);
    await t.close();
    expect(await readAll(t.readable({ group: 'g', prefetch: 1 }).pipeThrough(valuesStream<number>()))).toEqual([1, 2, 3]);
  });
});

describe('bufferMessagesStream', () => {
  it('batches by size, then closes the last batch on the timer of the given scheduler', async () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<number>('t', { groups: ['g'] });
    await t.publishBatch([0, 1, 2, 3, 4]);
    const reader = t.readable({ group: 'g', prefetch: 10 }).pipeThrough(bufferMessagesStream<number>(2, 30, { scheduler: vt.scheduler })).getReader();
    const a = await reader.read();
    const b = await reader.read();
    expect([a.value?.values, b.value?.values]).toEqual([
      [0, 1],
      [2, 3],
    ]);
    const c = reader.read();
    await settle();
    vt.advance(30);
    expect((await c).value?.values).toEqual([4]);
    expect((await c).value?.ackAll()).toBe(1);
    await reader.cancel();
  });
});

describe('publishToStream and deadLetterToStream', () => {
  it("publishToStream emits offsets in order; under 'block' a write waits for room", async () => {
    const t = createBus().topic<string>('t', { capacity: 2, groups: ['g'] });
    const ts = publishToStream(t, { headers: { via: 'stream' } });
    const writer = ts.writable.getWriter();
    const reader = ts.readable.getReader();
    const offsets: number[] = [];
    const reading = (async () => {
      for (let r = await reader.read(); !r.done; r = await reader.read()) offsets.push(r.value);
    })();
    await writer.write('a');
    await writer.write('b');
    const third = writer.write('c');
    await settle();
    expect(offsets).toEqual([0, 1]); // the ring is full and the group still needs both
    const c = t.consumer({ group: 'g' });
    const first = c.tryRecv();
    expect(first?.headers).toEqual({ via: 'stream' });
    await settle();
    expect(offsets).toEqual([0, 1]); // delivered is not settled: still no room
    first?.ack();
    await third;
    await writer.close();
    await reading;
    expect(offsets).toEqual([0, 1, 2]);
  });

  it("publishToStream: under 'reject' a full topic errors the stream with TopicFullError", async () => {
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
    const offsets = await readAll(src.readable({ group: 'g' }).pipeThrough(deadLetterToStream(dlq, { detail: 'manual' })));
    expect(offsets).toEqual([0, 1]);
    expect(src.stats().groups.g).toMatchObject({ acked: 2, pending: 0 });
    const dead = dlq.consumer({ group: 'ops' }).tryRecv();
    expect(dead?.headers).toMatchObject({
      'x-dead-letter-reason': 'terminated',
      'x-original-topic': 'src',
      'x-original-offset': '0',
      'x-original-group': 'g',
      'x-deliveries': '1',
      'x-dead-letter-detail': 'manual',
    });
  });
});
