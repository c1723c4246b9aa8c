/**
 * Delivery-order cases (DESIGN.md §3 "Delivery order"): priority levels against the same topic
 * without them, and a million delayed messages scheduled and delivered (the heap afterwards).
 */
import { VirtualTimeScheduler } from 'rxjs';
import { Sink, settledHeap, type Case, type Msg, type Result, type Trial } from '../lib/harness.js';
import { requireRingbus, type Topic } from '../lib/ringbus.js';
import { CONSUMER, GROUPED, observe } from './ringbus.js';

const LEVELS = 3;

/** Publishes n messages, message i at level i % 3, waiting for room whenever the ring is full, then closes. */
async function produceLeveled(topic: Topic<Msg>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const m = { id: i, v: 'x' };
    const o = { priority: i % LEVELS };
    if (!topic.tryPublish(m, o)) await topic.publish(m, o);
  }
  await topic.close();
}

/**
 * A sink per level: within a level, ids arrive in order (id / 3 counts up by one). The result's
 * `lastId` is n - 1 only when every level got all of its messages.
 */
function leveledResult(sinks: readonly Sink[], n: number): Result {
  let count = 0;
  let disorder = 0;
  let complete = true;
  for (let l = 0; l < sinks.length; l++) {
    count += sinks[l].count;
    disorder += sinks[l].disorder;
    const last = n - 1 - ((n - 1 - l) % LEVELS);
    if (last >= 0 && sinks[l].lastId !== Math.floor(last / LEVELS)) complete = false;
  }
  return { count, lastId: complete ? n - 1 : -1, disorder };
}

const throughput: Case[] = [
  {
    name: 'ringbus messages() ack, priority option, no levels',
    group: 'ringbus',
    note: "as 'ringbus messages() ack' on a topic without priorities, every publish given { priority: 0 }: what parsing a publish option costs, without any level",
    async prepare(n): Promise<Trial> {
      const { createBus } = await requireRingbus();
      const topic = createBus().topic<Msg>('bench', GROUPED);
      const sink = new Sink();
      const sub = observe(topic.messages(CONSUMER), (d) => {
        sink.take(d.value);
        d.ack();
      });
      const o = { priority: 0 };
      return {
        async run() {
          const produced = (async () => {
            for (let i = 0; i < n; i++) {
              const m = { id: i, v: 'x' };
              if (!topic.tryPublish(m, o)) await topic.publish(m, o);
            }
            await topic.close();
          })();
          await Promise.all([produced, sub.done]);
          return sink.result();
        },
        dispose: () => sub.stop(),
      };
    },
  },
  {
    name: 'ringbus messages() ack, 3 priorities',
    group: 'ringbus',
    note: "as 'ringbus messages() ack' with priorities: 3, message i published at level i % 3 (a priority option per publish)",
    async prepare(n): Promise<Trial> {
      const { createBus } = await requireRingbus();
      const topic = createBus().topic<Msg>('bench', { ...GROUPED, priorities: LEVELS });
      const sinks = [new Sink(), new Sink(), new Sink()];
      const sub = observe(topic.messages(CONSUMER), (d) => {
        sinks[d.value.id % LEVELS].takeId(Math.floor(d.value.id / LEVELS));
        d.ack();
      });
      return {
        async run() {
          await Promise.all([produceLeveled(topic, n), sub.done]);
          return leveledResult(sinks, n);
        },
        dispose: () => sub.stop(),
      };
    },
  },
];

const KEYS = 1000;
const KEY_NAMES = Array.from({ length: KEYS }, (_, k) => `customer-${k}`);
const MEMBERS = 4;

/** Publishes n messages, message i with key i % 1000, waiting for room whenever the ring is full, then closes. */
async function produceKeyed(topic: Topic<Msg>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const m = { id: i, v: 'x' };
    const o = { key: KEY_NAMES[i % KEYS] };
    if (!topic.tryPublish(m, o)) await topic.publish(m, o);
  }
  await topic.close();
}

/** 4 messages() subscribers of one group acking each delivery; per key, ids must arrive in order. */
function keyedCase(name: string, ordering: 'none' | 'key'): Case {
  return {
    name,
    group: 'ringbus',
    note: `topic(cap 1024, block, groups ['g']${ordering === 'key' ? ", ordering: 'key'" : ''}), 4 messages() subscribers of the group, d.ack() each; message i published with key i % 1000`,
    async prepare(n): Promise<Trial> {
      const { createBus } = await requireRingbus();
      const topic = createBus().topic<Msg>('bench', { ...GROUPED, ordering });
      const last = new Int32Array(KEYS).fill(-1);
      let count = 0;
      let disorder = 0;
      const subs = Array.from({ length: MEMBERS }, () =>
        observe(topic.messages(CONSUMER), (d) => {
          const k = d.value.id % KEYS;
          if (d.value.id < last[k]) disorder++;
          last[k] = d.value.id;
          count++;
          d.ack();
        }),
      );
      return {
        async run() {
          await Promise.all([produceKeyed(topic, n), ...subs.map((s) => s.done)]);
          return { count, lastId: count === n ? n - 1 : -1, disorder };
        },
        dispose: () => subs.forEach((s) => s.stop()),
      };
    },
  };
}

throughput.push(keyedCase('ringbus 4 members, 1000 keys, unordered', 'none'), keyedCase("ringbus 4 members, 1000 keys, ordering 'key'", 'key'));

const memory: Case[] = [
  {
    name: 'ringbus 1M delayed (heap)',
    group: 'memory',
    kind: 'memory',
    note: 'capacity N, one values() subscriber, virtual time; three rounds of 1M publishes with a random delayMs up to 10 s, then time running until all are delivered. Growth: heap after the third round - after the second (the ring full of retained messages both times)',
    size: (_base, quick) => (quick ? 100_000 : 1_000_000),
    async prepare(n): Promise<Trial> {
      const { createBus } = await requireRingbus();
      return {
        async run() {
          const scheduler = new VirtualTimeScheduler();
          const topic = createBus({ scheduler }).topic<Msg>('delayed', { capacity: n, overflow: 'block', ackTimeoutMs: Infinity });
          const due = new Float64Array(n);
          let last = -1;
          let disorder = 0;
          let count = 0;
          const sub = observe(topic.values(), (m) => {
            if (due[m.id] < last) disorder++; // due order
            last = due[m.id];
            count++;
          });
          let seed = 30;
          let scheduledBytes = 0;
          const round = (): void => {
            const start = settledHeap();
            const from = scheduler.now();
            last = -1;
            for (let i = 0; i < n; i++) {
              seed = (seed * 1103515245 + 12345) % 2147483648;
              due[i] = from + (seed % 10_000);
              if (!topic.tryPublish({ id: i, v: 'x' }, { delayMs: due[i] - from })) throw new Error(`tryPublish refused message ${i} of ${n}`);
            }
            scheduledBytes = settledHeap() - start;
            scheduler.maxFrames = from + 10_000;
            scheduler.flush();
          };
          round();
          round(); // the ring is full from here on: later rounds only overwrite it
          const first = settledHeap();
          round();
          const end = settledHeap();
          sub.stop();
          // deliveries are checked for due order, not id order: report n - 1 as the last id once all arrived
          return { count: count / 3, lastId: count === 3 * n ? n - 1 : -1, disorder, metrics: { heapAtFirstSampleBytes: first, heapAtEndBytes: end, heapGrowthBytes: Math.max(0, end - first), scheduledBytes } };
        },
      };
    },
  },
];

export const orderCases: Case[] = [...throughput, ...memory];
