/**
 * The NATS engine against the raw `@nats-io/jetstream` client doing the same work on the same
 * server (RINGBUS_NATS_URL, default nats://127.0.0.1:4222), one file-stored stream per trial:
 * publish awaited one at a time, publish with 256 in flight, and consume + ack of a stream
 * filled before the timed region. Both sides encode `{ id, v }` with MessagePack.
 */
import { encode, decode } from '@msgpack/msgpack';
import type { Case, Msg, Trial } from '../lib/harness.js';
import { Sink } from '../lib/harness.js';

const URL = process.env.RINGBUS_NATS_URL ?? 'nats://127.0.0.1:4222';
const IN_FLIGHT = 256;
let trials = 0;

async function nats() {
  const [{ connect }, js] = await Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream')]);
  const nc = await connect({ servers: URL }).catch((e: unknown) => {
    throw new Error(`the NATS bench cases need nats-server with JetStream at ${URL}: ${String(e)}`);
  });
  return { nc, js: js.jetstream(nc), jsm: await js.jetstreamManager(nc), lib: js };
}

/** A raw stream `bench_raw_<k>` (no limits), with a durable pull consumer `c` when `consumer`. */
async function rawStream(prefill: number, consumer: boolean) {
  const n = await nats();
  const name = `benchraw${process.pid}_${trials++}`;
  await n.jsm.streams.add({ name, subjects: [`${name}.s`], storage: n.lib.StorageType.File });
  if (consumer) await n.jsm.consumers.add(name, { durable_name: 'c', ack_policy: n.lib.AckPolicy.Explicit });
  await fill(prefill, (i) => n.js.publish(`${name}.s`, encode({ id: i, v: 'x' })));
  return {
    ...n,
    subject: `${name}.s`,
    name,
    async dispose() {
      await n.jsm.streams.delete(name).catch(() => undefined);
      await n.nc.close();
    },
  };
}

/** A ringbus topic on the NATS engine, file-stored, room for `capacity`. */
async function ringbusTopic(capacity: number, prefill: number, groups: string[]) {
  const [{ createBus }, { natsEngine }] = await Promise.all([import('../../src/index.js'), import('../../src/nats/index.js')]);
  const prefix = `benchrb${process.pid}_${trials++}`;
  const bus = createBus({ engine: natsEngine({ servers: URL, prefix }) });
  await bus.ready();
  const topic = bus.topic<Msg>('t', { capacity, groups });
  // the stream is created by the first call on the topic: here, untimed, as the raw cases create theirs
  if (prefill === 0) await topic.publish({ id: -1, v: 'x' });
  await fill(prefill, (i) => topic.publish({ id: i, v: 'x' }));
  return {
    topic,
    async dispose() {
      await topic.close();
      await bus.deleteTopic('t');
      await bus.close();
    },
  };
}

/** Publishes 0..n-1 with IN_FLIGHT in flight, in order. */
async function fill(n: number, publish: (i: number) => Promise<unknown>): Promise<void> {
  const batch: Promise<unknown>[] = [];
  for (let i = 0; i < n; ) {
    const end = Math.min(n, i + IN_FLIGHT);
    batch.length = 0;
    for (; i < end; i++) batch.push(publish(i));
    await Promise.all(batch);
  }
}

const awaited = (_base: number, quick: boolean) => (quick ? 20 : 1_000);
const many = (_base: number, quick: boolean) => (quick ? 300 : 10_000);

export const natsCases: Case[] = [
  {
    name: 'raw jetstream publish awaited',
    group: 'nats',
    note: '@nats-io/jetstream js.publish(subject, msgpack({ id, v })), awaited before the next',
    size: awaited,
    async prepare(n): Promise<Trial> {
      const s = await rawStream(0, false);
      const sink = new Sink();
      return {
        async run() {
          for (let i = 0; i < n; i++) {
            await s.js.publish(s.subject, encode({ id: i, v: 'x' }));
            sink.takeId(i);
          }
          return sink.result();
        },
        dispose: s.dispose,
      };
    },
  },
  {
    name: 'ringbus nats publish awaited',
    group: 'nats',
    note: 'natsEngine topic.publish({ id, v }), awaited before the next',
    size: awaited,
    async prepare(n): Promise<Trial> {
      const t = await ringbusTopic(n + 2, 0, []);
      const sink = new Sink();
      return {
        async run() {
          for (let i = 0; i < n; i++) {
            await t.topic.publish({ id: i, v: 'x' });
            sink.takeId(i);
          }
          return sink.result();
        },
        dispose: t.dispose,
      };
    },
  },
  {
    name: 'raw jetstream publish ×256 in flight',
    group: 'nats',
    note: '@nats-io/jetstream js.publish of msgpack({ id, v }): 256 promises in flight, await all, repeat',
    size: many,
    async prepare(n): Promise<Trial> {
      const s = await rawStream(0, false);
      const sink = new Sink();
      return {
        async run() {
          await fill(n, (i) => s.js.publish(s.subject, encode({ id: i, v: 'x' })));
          for (let i = 0; i < n; i++) sink.takeId(i);
          return sink.result();
        },
        dispose: s.dispose,
      };
    },
  },
  {
    name: 'ringbus nats publish ×256 in flight',
    group: 'nats',
    note: 'natsEngine topic.publish({ id, v }): 256 promises in flight, await all, repeat',
    size: many,
    async prepare(n): Promise<Trial> {
      const t = await ringbusTopic(n + 2, 0, []);
      const sink = new Sink();
      return {
        async run() {
          await fill(n, (i) => t.topic.publish({ id: i, v: 'x' }));
          for (let i = 0; i < n; i++) sink.takeId(i);
          return sink.result();
        },
        dispose: t.dispose,
      };
    },
  },
  {
    name: 'raw jetstream consume+ack',
    group: 'nats',
    note: '@nats-io/jetstream durable pull consumer, consume({ max_messages: 256 }): decode, ack each (n published before)',
    size: many,
    async prepare(n): Promise<Trial> {
      const s = await rawStream(n, true);
      const sink = new Sink();
      return {
        async run() {
          const c = await s.js.consumers.get(s.name, 'c');
          const messages = await c.consume({ max_messages: IN_FLIGHT });
          for await (const m of messages) {
            sink.take(decode(m.data) as Msg);
            m.ack();
            if (sink.count === n) break;
          }
          return sink.result();
        },
        dispose: s.dispose,
      };
    },
  },
  {
    name: 'ringbus nats consume() ack',
    group: 'nats',
    note: 'natsEngine topic.consume({ group, prefetch: 256 }) for-await: ack each (n published before)',
    size: many,
    async prepare(n): Promise<Trial> {
      const t = await ringbusTopic(n + 1, n, ['g']);
      const sink = new Sink();
      return {
        async run() {
          for await (const d of t.topic.consume({ group: 'g', prefetch: IN_FLIGHT })) {
            sink.take(d.value);
            d.ack();
            if (sink.count === n) break;
          }
          return sink.result();
        },
        dispose: t.dispose,
      };
    },
  },
];
