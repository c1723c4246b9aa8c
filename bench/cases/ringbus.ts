/**
 * ringbus cases, written against the DESIGN.md §3 API. Every bounded topic has capacity
 * 1024 and overflow 'block'; producers respect backpressure (`tryPublish`, and `await
 * publish` when it says no) and run interleaved with the consumer in this process.
 * Producers close the topic (or channel) after the last message, and the consumer side ends
 * the way the API says it ends once closed and drained — so a lost message shows up as a
 * wrong count instead of a hang.
 */
import { BATCH, CAPACITY, Sink, deferred, freshBatch, merge, settledHeap, type Case, type Msg, type Trial } from '../lib/harness.js';
import { requireRingbus, type ObservableLike, type Topic, type TopicOptions } from '../lib/ringbus.js';
import { retainSize } from './peers.js';

const GROUP = 'g';
const BOUNDED: TopicOptions = { capacity: CAPACITY, overflow: 'block' };
const GROUPED: TopicOptions = { capacity: CAPACITY, overflow: 'block', groups: [GROUP] };
const CONSUMER = { group: GROUP, prefetch: CAPACITY } as const;

async function newTopic(opts: TopicOptions): Promise<Topic<Msg>> {
  const { createBus } = await requireRingbus();
  return createBus().topic<Msg>('bench', opts);
}

/** Publishes n fresh messages, waiting for room whenever the ring is full, then closes. */
async function produce(topic: Topic<Msg>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const m = { id: i, v: 'x' };
    if (!topic.tryPublish(m)) await topic.publish(m);
  }
  await topic.close();
}

/** Subscribes a sink to an Observable face; the promise settles when it completes or errors. */
function observe<T>(source: ObservableLike<T>, onValue: (v: T) => void): { done: Promise<void>; stop(): void } {
  const d = deferred();
  const sub = source.subscribe({ next: onValue, error: d.reject, complete: () => d.resolve() });
  return { done: d.promise, stop: () => sub.unsubscribe() };
}

/** A trial with one push subscriber: the producer and the subscription run until the topic closes and it completes. */
async function pushTrial(n: number, opts: TopicOptions, subscribe: (topic: Topic<Msg>, sink: Sink) => { done: Promise<void>; stop(): void }): Promise<Trial> {
  const topic = await newTopic(opts);
  const sink = new Sink();
  const sub = subscribe(topic, sink);
  return {
    async run() {
      await Promise.all([produce(topic, n), sub.done]);
      return sink.result();
    },
    dispose: () => sub.stop(),
  };
}

const throughput: Case[] = [
  {
    name: 'ringbus values() 1→1',
    group: 'ringbus',
    note: 'topic(cap 1024, block), one values() subscriber (no group); tryPublish, else await publish',
    prepare: (n) => pushTrial(n, BOUNDED, (topic, sink) => observe(topic.values(), (m) => sink.take(m))),
  },
  {
    name: 'ringbus values() fan-out 4',
    group: 'ringbus',
    note: 'topic(cap 1024, block), 4 values() subscribers; figures are deliveries/s (4 per message)',
    fanout: 4,
    async prepare(n): Promise<Trial> {
      const topic = await newTopic(BOUNDED);
      const sinks = [new Sink(), new Sink(), new Sink(), new Sink()];
      const subs = sinks.map((s) => observe(topic.values(), (m) => s.take(m)));
      return {
        async run() {
          await Promise.all([produce(topic, n), ...subs.map((s) => s.done)]);
          return merge(sinks);
        },
        dispose: () => subs.forEach((s) => s.stop()),
      };
    },
  },
  {
    name: 'ringbus messages() ack',
    group: 'ringbus',
    note: "topic(cap 1024, block, groups ['g']); messages({ group, prefetch: 1024 }) with d.ack() per message",
    prepare: (n) =>
      pushTrial(n, GROUPED, (topic, sink) =>
        observe(topic.messages(CONSUMER), (d) => {
          sink.take(d.value);
          d.ack();
        }),
      ),
  },
  {
    name: 'ringbus publishBatch(100)/recvBatch(100)',
    group: 'ringbus',
    note: 'grouped topic; await publishBatch of 100 fresh messages; consumer recvBatch(100), one batch settle: commit(last offset + 1)',
    async prepare(n): Promise<Trial> {
      const topic = await newTopic(GROUPED);
      const consumer = topic.consumer(CONSUMER);
      return {
        async run() {
          const sink = new Sink();
          const producer = (async () => {
            for (let b = 0; b < n; b += BATCH) {
              await topic.publishBatch(freshBatch(b, n));
            }
            await topic.close();
          })();
          for (;;) {
            const ds = await consumer.recvBatch(BATCH);
            if (ds === undefined || ds.length === 0) break;
            for (let k = 0; k < ds.length; k++) sink.take(ds[k].value);
            consumer.commit(ds[ds.length - 1].offset + 1); // one settle for the whole batch
          }
          await producer;
          return sink.result();
        },
        dispose: () => void consumer.close(),
      };
    },
  },
  {
    name: 'ringbus consume() for-await ack',
    group: 'ringbus',
    note: 'grouped topic; for await (const d of topic.consume({ group, prefetch: 1024 })) d.ack()',
    async prepare(n): Promise<Trial> {
      const topic = await newTopic(GROUPED);
      const iterable = topic.consume(CONSUMER);
      return {
        async run() {
          const sink = new Sink();
          const producer = produce(topic, n);
          for await (const d of iterable) {
            sink.take(d.value);
            d.ack();
          }
          await producer;
          return sink.result();
        },
      };
    },
  },
  {
    name: 'ringbus readable() reader ack',
    group: 'ringbus',
    note: 'grouped topic; topic.readable({ group, prefetch: 1024 }).getReader().read() loop, d.ack()',
    async prepare(n): Promise<Trial> {
      const topic = await newTopic(GROUPED);
      const reader = topic.readable(CONSUMER).getReader();
      return {
        async run() {
          const sink = new Sink();
          const producer = produce(topic, n);
          for (;;) {
            const r = await reader.read();
            if (r.done) break;
            sink.take(r.value.value);
            r.value.ack();
          }
          await producer;
          return sink.result();
        },
        dispose: () => reader.releaseLock(),
      };
    },
  },
  {
    name: 'ringbus channel(1024) send/recv/ack',
    group: 'ringbus',
    note: 'const [tx, rx] = channel(1024); trySend, else await send; await rx.recv() then d.ack()',
    async prepare(n): Promise<Trial> {
      const { channel } = await requireRingbus();
      const [tx, rx] = channel<Msg>(CAPACITY);
      return {
        async run() {
          const sink = new Sink();
          const producer = (async () => {
            for (let i = 0; i < n; i++) {
              const m = { id: i, v: 'x' };
              if (!tx.trySend(m)) await tx.send(m);
            }
            await tx.close();
          })();
          for (;;) {
            const d = await rx.recv();
            if (d === undefined) break;
            sink.take(d.value);
            d.ack();
          }
          await producer;
          return sink.result();
        },
      };
    },
  },
];

const memory: Case[] = [
  {
    name: 'ringbus retain 1M (heap)',
    group: 'memory',
    kind: 'memory',
    note: 'heap after GC of a topic (capacity 2^20, no groups) retaining 2^20 fresh messages; compare with Array retain',
    size: retainSize,
    async prepare(n): Promise<Trial> {
      const { createBus } = await requireRingbus();
      return {
        run() {
          const before = settledHeap();
          const topic = createBus().topic<Msg>('retain', { capacity: n, overflow: 'block' });
          for (let i = 0; i < n; i++) {
            if (!topic.tryPublish({ id: i, v: 'x' })) throw new Error(`tryPublish refused message ${i} of ${n}`);
          }
          const heapBytes = settledHeap() - before;
          // Verify what is retained: replay it all from the earliest offset.
          const sink = new Sink();
          const c = topic.consumer({ from: 'earliest', prefetch: CAPACITY });
          for (let d = c.tryRecv(); d !== undefined; d = c.tryRecv()) {
            sink.take(d.value);
            d.ack();
          }
          c.close();
          return sink.result({ heapBytes, bytesPerMsg: heapBytes / n });
        },
      };
    },
  },
  {
    name: 'ringbus stream 10M cap 1024 (heap)',
    group: 'memory',
    kind: 'memory',
    note: 'messages() + ack through a grouped topic of 1024; heap after GC sampled every 10% of N, growth after the first 10%',
    size: (_base, quick) => (quick ? 200_000 : 10_000_000),
    async prepare(n): Promise<Trial> {
      const topic = await newTopic(GROUPED);
      const sink = new Sink();
      const sub = observe(topic.messages(CONSUMER), (d) => {
        sink.take(d.value);
        d.ack();
      });
      const step = Math.max(1, Math.floor(n / 10));
      const caughtUp = async (i: number) => {
        while (sink.count < i) await new Promise((r) => setImmediate(r));
      };
      return {
        async run() {
          const samples: number[] = [];
          for (let i = 0; i < n; i++) {
            if (i > 0 && i % step === 0) {
              await caughtUp(i);
              samples.push(settledHeap());
            }
            const m = { id: i, v: 'x' };
            if (!topic.tryPublish(m)) await topic.publish(m);
          }
          await caughtUp(n);
          samples.push(settledHeap());
          await topic.close();
          await sub.done;
          const first = samples[0];
          let max = first;
          for (const s of samples) if (s > max) max = s;
          return sink.result({
            heapAtFirstSampleBytes: first,
            heapAtEndBytes: samples[samples.length - 1],
            heapGrowthBytes: max - first,
          });
        },
        dispose: () => sub.stop(),
      };
    },
  },
];

export const ringbusCases: Case[] = [...throughput, ...memory];
