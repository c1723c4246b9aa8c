/**
 * The browser cases' page (bundled by bench/cases/browser.ts, run in Chromium): each case as
 * in the Node cases — prepare untimed, run timed, a Sink checking count and order — behind
 * `globalThis.__ringbusBench`, which the Node side drives one trial at a time.
 */
import { createBus, type Topic } from '../../src/index.js';
import { indexedDbStorage } from '../../src/browser/index.js';
import { CAPACITY, Sink, type Msg, type Result } from '../lib/harness.js';
import { IN_FLIGHT, publishInFlight } from '../lib/durable.js';
import { readAcked, readAll, sourceStream } from '../lib/streams.js';

/** One prepared trial in the page. */
interface PageTrial {
  run(): Promise<Result>;
  dispose?(): Promise<void> | void;
}

const GROUP = 'g';

/** Publishes n fresh messages, waiting for room whenever the ring is full, then closes. */
async function produce(topic: Topic<Msg>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const m = { id: i, v: 'x' };
    if (!topic.tryPublish(m)) await topic.publish(m);
  }
  await topic.close();
}

let databases = 0;

/** A database name no earlier trial used (each durable trial starts empty). */
function freshDatabase(): string {
  return `ringbus-bench-${Date.now()}-${databases++}`;
}

function deleteDatabase(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(name);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(req.error);
  });
}

/** Resolves once `tx` has committed; rejects when it aborts. */
function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
  });
}

const cases: Record<string, (n: number) => Promise<PageTrial>> = {
  async 'readable() reader ack'(n) {
    const topic = createBus().topic<Msg>('bench', { capacity: CAPACITY, overflow: 'block', groups: [GROUP] });
    const reader = topic.readable({ group: GROUP, prefetch: CAPACITY }).getReader();
    return {
      async run() {
        const sink = new Sink();
        const producer = produce(topic, n);
        await readAcked(reader, sink);
        await producer;
        return sink.result();
      },
      dispose: () => reader.releaseLock(),
    };
  },

  async 'ReadableStream reader (hwm 1024)'(n) {
    return {
      async run() {
        const sink = new Sink();
        await readAll(sourceStream(n).getReader(), sink);
        return sink.result();
      },
    };
  },

  async 'indexedDbStorage publish ×1000 in flight'(n) {
    const name = freshDatabase();
    const bus = createBus({ storage: indexedDbStorage(name) });
    const topic = bus.topic<Msg>('bench', { capacity: CAPACITY });
    await bus.ready();
    return {
      async run() {
        const sink = new Sink();
        await publishInFlight(topic, n, sink);
        return sink.result();
      },
      async dispose() {
        await bus.close();
        await deleteDatabase(name);
      },
    };
  },

  async 'IndexedDB put batch 1000 (strict)'(n) {
    const name = freshDatabase();
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open(name, 1);
      req.onupgradeneeded = () => req.result.createObjectStore('messages');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const now = Date.now();
    return {
      async run() {
        const sink = new Sink();
        for (let i = 0; i < n; ) {
          const start = i;
          const end = Math.min(n, i + IN_FLIGHT);
          const tx = db.transaction('messages', 'readwrite', { durability: 'strict' });
          const store = tx.objectStore('messages');
          // the record indexedDbStorage keeps per message, under its key [topic, offset]
          for (; i < end; i++) store.put({ offset: i, value: { id: i, v: 'x' }, key: undefined, headers: {}, timestamp: now, expires: Infinity }, ['bench', i]);
          await committed(tx);
          for (let k = start; k < end; k++) sink.takeId(k);
        }
        return sink.result();
      },
      async dispose() {
        db.close();
        await deleteDatabase(name);
      },
    };
  },
};

let current: PageTrial | undefined;
/** The last trial that ran, kept reachable until the next one has run (as bench/case.ts does). */
let previous: PageTrial | undefined;

const bench = {
  cases: Object.keys(cases),
  async prepare(name: string, n: number): Promise<void> {
    const make = cases[name];
    if (make === undefined) throw new Error(`no browser case ${JSON.stringify(name)} (there are: ${Object.keys(cases).join(', ')})`);
    current = await make(n);
    (globalThis as { gc?: () => void }).gc?.();
  },
  run(): Promise<Result> {
    if (current === undefined) return Promise.reject(new Error('run() before prepare()'));
    return current.run();
  },
  async dispose(): Promise<void> {
    await current?.dispose?.();
    previous = current;
    current = undefined;
  },
};

(globalThis as { __ringbusBench?: typeof bench }).__ringbusBench = bench;
