/**
 * Across threads (worker_threads): a producer thread moves N fresh `{ id, v: 'x' }` messages to a
 * consumer thread, at most 1024 unanswered, in order. The threads start once per process (untimed,
 * in the first prepare); a trial is timed from the main thread's `go` to the consumer's result.
 *
 * - ringbus: the MessagePort engine. The bus lives in the main thread and is served to each worker
 *   over its own MessageChannel (`serveBus`); the producer publishes and the consumer acks over
 *   `createBus({ engine: portEngine(port) })`, so every message crosses twice and every ack once.
 * - Peers: a raw MessagePort stream between the two workers (one postMessage per message, credit
 *   returned every 256); the same stream relayed by the main thread (the port engine's topology:
 *   three threads, two hops); and a SharedArrayBuffer ring of ids with Atomics (the physical limit).
 */
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { bundleChild } from '../../test/bundle.js';
import type { Case, Result, Trial } from '../lib/harness.js';
import type { Bus } from '../lib/ringbus.js';
import { CAPACITY } from '../lib/harness.js';
import { PORT_TOPIC, RING_OFFSET, type Role } from '../lib/threads.js';

/** The worker, bundled once per process: a worker thread does not inherit tsx's loader. */
let script: Promise<string> | undefined;

type Reply = { up?: true; open?: true; sent?: number; result?: Result; error?: string };

/** The worker's next message; a worker's `{ error }` or 'error' event rejects. */
async function next(w: Worker): Promise<Reply> {
  const [m] = (await once(w, 'message')) as [Reply];
  if (m.error !== undefined) throw new Error(`worker: ${m.error}`);
  return m;
}

async function start(role: Role, data: Record<string, unknown>, transfer: readonly unknown[] = []): Promise<Worker> {
  script ??= bundleChild(fileURLToPath(new URL('../lib/thread-worker.ts', import.meta.url)));
  const w = new Worker(await script, { workerData: { role, ...data }, transferList: transfer as never });
  await next(w);
  return w;
}

interface Pair {
  producer: Worker;
  consumer: Worker;
}

/** Times one trial: `go` to the producer, until the consumer's result (and the producer's word that it sent all). */
async function timed(pair: Pair, go: Record<string, unknown>): Promise<Result> {
  const result = next(pair.consumer);
  const sent = next(pair.producer);
  pair.producer.postMessage(go);
  const [r] = await Promise.all([result, sent]);
  if (r.result === undefined) throw new Error(`consumer answered ${JSON.stringify(r)}`);
  return r.result;
}

/** The main thread's end of a channel, as Node gives it (an EventEmitter too). */
type NodePort = import('node:worker_threads').MessagePort;

let raw: Promise<Pair> | undefined;
let relay: Promise<Pair> | undefined;
let sab: Promise<Pair & { ctl: Int32Array }> | undefined;
let served: Promise<Pair & { bus: Bus & { deleteTopic(name: string): Promise<unknown> } }> | undefined;
let trials = 0;

/** A fifth of the suite's N (200,000 by default): a trial of the port engine stays a couple of seconds. */
const size = (base: number): number => Math.max(1, Math.floor(base / 5));

export const threadCases: Case[] = [
  {
    name: 'MessagePort stream between threads',
    group: 'threads',
    size,
    note: 'producer worker → consumer worker over one MessageChannel: postMessage per message, ≤ 1024 unanswered, credit back every 256',
    async prepare(n): Promise<Trial> {
      raw ??= (async () => {
        const { port1, port2 } = new MessageChannel();
        const [producer, consumer] = await Promise.all([start('raw-producer', { port: port1 }, [port1]), start('raw-consumer', { port: port2 }, [port2])]);
        return { producer, consumer };
      })();
      const pair = await raw;
      return { run: () => timed(pair, { go: n }) };
    },
  },
  {
    name: 'MessagePort relay through the main thread',
    group: 'threads',
    size,
    note: "as 'MessagePort stream between threads', each message and credit forwarded by the main thread: the port engine's three threads and two hops",
    async prepare(n): Promise<Trial> {
      relay ??= (async () => {
        const a = new MessageChannel();
        const b = new MessageChannel();
        const toProducer = a.port1 as unknown as NodePort;
        const toConsumer = b.port1 as unknown as NodePort;
        toProducer.on('message', (m: unknown) => toConsumer.postMessage(m));
        toConsumer.on('message', (m: unknown) => toProducer.postMessage(m));
        const [producer, consumer] = await Promise.all([start('raw-producer', { port: a.port2 }, [a.port2]), start('raw-consumer', { port: b.port2 }, [b.port2])]);
        return { producer, consumer };
      })();
      const pair = await relay;
      return { run: () => timed(pair, { go: n }) };
    },
  },
  {
    name: 'SharedArrayBuffer ring between threads',
    group: 'threads',
    size,
    note: 'producer worker → consumer worker through a 1024-slot ring of ids in a SharedArrayBuffer (Atomics; notify only a sleeper): the physical limit',
    async prepare(n): Promise<Trial> {
      sab ??= (async () => {
        const buffer = new SharedArrayBuffer(RING_OFFSET + CAPACITY * Int32Array.BYTES_PER_ELEMENT);
        const [producer, consumer] = await Promise.all([start('sab-producer', { sab: buffer }), start('sab-consumer', { sab: buffer })]);
        return { producer, consumer, ctl: new Int32Array(buffer, 0, 4) };
      })();
      const ring = await sab;
      ring.ctl.fill(0); // both threads are idle between trials
      return {
        run() {
          ring.consumer.postMessage({ go: n });
          return timed(ring, { go: n });
        },
      };
    },
  },
  {
    name: 'ringbus port engine messages() ack (threads)',
    group: 'ringbus',
    size,
    note: 'bus in the main thread, serveBus to two workers; producer worker: publish() ≤ 1024 unanswered; consumer worker: messages({ group, prefetch: 1024 }) + ack()',
    async prepare(n): Promise<Trial> {
      served ??= (async () => {
        const { createBus, serveBus } = (await import(new URL('../../src/index.js', import.meta.url).href)) as typeof import('../../src/index.js');
        const bus = createBus();
        const a = new MessageChannel();
        const b = new MessageChannel();
        serveBus(bus, a.port1);
        serveBus(bus, b.port1);
        const [producer, consumer] = await Promise.all([start('port-producer', { port: a.port2 }, [a.port2]), start('port-consumer', { port: b.port2 }, [b.port2])]);
        return { producer, consumer, bus: bus as never };
      })();
      const trio = await served;
      const topic = `bench-${trials++}`;
      trio.bus.topic(topic, PORT_TOPIC);
      trio.consumer.postMessage({ open: topic });
      await next(trio.consumer);
      return {
        run: () => timed(trio, { go: n, topic }),
        dispose: async () => void (await trio.bus.deleteTopic(topic)),
      };
    },
  },
];
