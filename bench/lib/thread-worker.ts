/**
 * The worker thread of the cross-thread cases (bench/cases/threads.ts): a producer or a consumer,
 * by `workerData.role`. It says `{ up: true }` once it can take a trial, and then answers its
 * parent:
 *
 * - `{ go: n, topic? }` to a producer: send n fresh `{ id, v: 'x' }` messages, then an end mark;
 *   answers `{ sent: n }`.
 * - a consumer answers `{ result }` (a {@link Result}) each time it has seen an end mark; a
 *   consumer of the port engine first takes `{ open: topic }` and answers `{ open: true }`.
 *
 * The parent times from its `go` to the consumer's result; everything here starts before that.
 * It runs bundled with ringbus's source (test/bundle.ts), as plain JavaScript.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { createBus, portEngine } from '../../src/index.js';
import { CAPACITY, Sink, type Msg } from './harness.js';
import type { Bus, Delivery, Topic } from './ringbus.js';
import { CONSUMER_WAITS, CREDIT, HEAD, PORT_TOPIC, PRODUCER_WAITS, RING_OFFSET, TAIL, type Role } from './threads.js';

const parent = parentPort!;
const data = workerData as { role: Role; port?: MessagePort; sab?: SharedArrayBuffer };

/** A raw MessagePort producer: one postMessage per message, at most CAPACITY unanswered; credit comes back tagged by trial. */
function rawProducer(port: MessagePort): void {
  let trial = 0;
  let credit = 0;
  let wake: (() => void) | undefined;
  port.on('message', (c: { trial: number; credit: number }) => {
    if (c.trial !== trial) return;
    credit += c.credit;
    const w = wake;
    wake = undefined;
    w?.();
  });
  parent.on('message', async ({ go: n }: { go: number }) => {
    trial++;
    credit = CAPACITY;
    for (let i = 0; i < n; i++) {
      if (credit === 0) await new Promise<void>((r) => (wake = r));
      port.postMessage({ id: i, v: 'x' });
      credit--;
    }
    port.postMessage(null);
    parent.postMessage({ sent: n });
  });
}

function rawConsumer(port: MessagePort): void {
  let trial = 1;
  let sink = new Sink();
  let unanswered = 0;
  port.on('message', (m: Msg | null) => {
    if (m === null) {
      parent.postMessage({ result: sink.result() });
      sink = new Sink();
      unanswered = 0;
      trial++;
      return;
    }
    sink.take(m);
    if (++unanswered === CREDIT) {
      unanswered = 0;
      port.postMessage({ trial, credit: CREDIT });
    }
  });
}

/**
 * A single-producer single-consumer ring of message ids in a SharedArrayBuffer: the producer
 * publishes each slot with one atomic store, the consumer takes all it sees and frees them with
 * one; a side about to sleep says so first, so the other calls `Atomics.notify` only then.
 */
function sabProducer(sab: SharedArrayBuffer): void {
  const ctl = new Int32Array(sab, 0, 4);
  const ring = new Int32Array(sab, RING_OFFSET, CAPACITY);
  parent.on('message', ({ go: n }: { go: number }) => {
    let tail = 0;
    for (let i = 0; i < n; i++) {
      const m: Msg = { id: i, v: 'x' };
      for (;;) {
        const head = Atomics.load(ctl, HEAD);
        if (tail - head < CAPACITY) break;
        Atomics.store(ctl, PRODUCER_WAITS, 1);
        if (Atomics.load(ctl, HEAD) === head) Atomics.wait(ctl, HEAD, head);
        Atomics.store(ctl, PRODUCER_WAITS, 0);
      }
      ring[tail % CAPACITY] = m.id;
      Atomics.store(ctl, TAIL, ++tail);
      if (Atomics.load(ctl, CONSUMER_WAITS) === 1) Atomics.notify(ctl, TAIL);
    }
    parent.postMessage({ sent: n });
  });
}

function sabConsumer(sab: SharedArrayBuffer): void {
  const ctl = new Int32Array(sab, 0, 4);
  const ring = new Int32Array(sab, RING_OFFSET, CAPACITY);
  parent.on('message', ({ go: n }: { go: number }) => {
    const sink = new Sink();
    let head = 0;
    while (head < n) {
      const tail = Atomics.load(ctl, TAIL);
      if (tail === head) {
        Atomics.store(ctl, CONSUMER_WAITS, 1);
        if (Atomics.load(ctl, TAIL) === head) Atomics.wait(ctl, TAIL, head);
        Atomics.store(ctl, CONSUMER_WAITS, 0);
        continue;
      }
      for (; head < tail; head++) sink.takeId(ring[head % CAPACITY]!);
      Atomics.store(ctl, HEAD, head);
      if (Atomics.load(ctl, PRODUCER_WAITS) === 1) Atomics.notify(ctl, HEAD);
    }
    parent.postMessage({ result: sink.result() });
  });
}

async function remoteBus(port: MessagePort): Promise<Bus> {
  const bus = createBus({ engine: portEngine(port, { heartbeatMs: 0 }) });
  await bus.ready();
  return bus as unknown as Bus;
}

/**
 * A producer over the port engine: `publish()` per message without waiting for each (a remote
 * engine answers `tryPublish` with false, and one awaited publish at a time is a round trip per
 * message), waiting whenever more than CAPACITY are unanswered; then it closes the topic.
 */
async function portProducer(port: MessagePort): Promise<void> {
  const bus = await remoteBus(port);
  parent.on('message', async ({ go: n, topic: name }: { go: number; topic: string }) => {
    const topic: Topic<Msg> = bus.topic<Msg>(name, PORT_TOPIC);
    const window: Promise<number>[] = [];
    let last: Promise<number> | undefined;
    for (let i = 0; i < n; i++) {
      last = topic.publish({ id: i, v: 'x' });
      if ((i + 1) % CREDIT === 0) {
        window.push(last);
        if (window.length * CREDIT > CAPACITY) await window.shift();
      }
    }
    await Promise.all([...window, last]);
    await topic.close();
    parent.postMessage({ sent: n });
  });
}

/** A consumer over the port engine: `messages()` of group `g`, prefetch 1024, each delivery acked. */
async function portConsumer(port: MessagePort): Promise<void> {
  const bus = await remoteBus(port);
  parent.on('message', ({ open: name }: { open: string }) => {
    const sink = new Sink();
    const topic: Topic<Msg> = bus.topic<Msg>(name, PORT_TOPIC);
    topic.messages({ group: 'g', prefetch: CAPACITY }).subscribe({
      next: (d: Delivery<Msg>) => {
        sink.take(d.value);
        d.ack();
      },
      error: (e: unknown) => parent.postMessage({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
      complete: () => parent.postMessage({ result: sink.result() }),
    });
    parent.postMessage({ open: true });
  });
}

async function main(): Promise<void> {
  switch (data.role) {
    case 'raw-producer':
      rawProducer(data.port!);
      break;
    case 'raw-consumer':
      rawConsumer(data.port!);
      break;
    case 'sab-producer':
      sabProducer(data.sab!);
      break;
    case 'sab-consumer':
      sabConsumer(data.sab!);
      break;
    case 'port-producer':
      await portProducer(data.port!);
      break;
    case 'port-consumer':
      await portConsumer(data.port!);
      break;
  }
  parent.postMessage({ up: true });
}

main().catch((e: unknown) => parent.postMessage({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) }));
