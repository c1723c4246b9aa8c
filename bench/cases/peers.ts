/**
 * Peers: the same workload through other libraries and platform primitives, measured in the
 * same invocation so every ringbus figure is a ratio taken on the same machine at the same time.
 *
 * Third-party libraries are imported inside `prepare()`, so each child process loads only what
 * its case uses and its peak RSS says something about the case rather than the whole suite.
 */
import { EventEmitter, once } from 'node:events';
import { Readable } from 'node:stream';
import { BATCH, CAPACITY, Sink, freshBatch, merge, settledHeap, type Case, type Msg, type Result } from '../lib/harness.js';
import { sourceStream } from '../lib/streams.js';


type EffectModule = typeof import('effect');
type EffectQueue = import('effect').Queue.Queue<Msg>;
type Eff = import('effect').Effect.Effect<unknown, unknown>;

/**
 * An Effect case: `make` builds the queue or hub once per trial (untimed); in the timed run,
 * `open` takes the consumer's handle on it (a subscription, or the queue itself), a forked
 * producer fiber fills it while the consumer loop drains the handle into the sink, then the
 * producer is joined. Only a handle that needs a scope (a subscription) runs inside
 * `Effect.scoped`: it costs the queue cases a few percent, and a peer is measured at its best.
 */
function effectCase<R, H>(
  name: string,
  note: string,
  make: (fx: EffectModule) => R,
  open: (fx: EffectModule, r: R) => import('effect').Effect.Effect<H, never, import('effect').Scope.Scope>,
  scoped: boolean,
  produce: (fx: EffectModule, r: R, n: number) => Eff,
  consume: (fx: EffectModule, h: H, n: number, sink: Sink) => Eff,
): Case {
  return {
    name,
    group: 'effect',
    note,
    async prepare(n) {
      const fx = await import('effect');
      const { Effect, Fiber } = fx;
      const r = make(fx);
      const body = Effect.gen(function* () {
        const sink = new Sink();
        const h = yield* open(fx, r);
        const producer = yield* Effect.forkChild(produce(fx, r, n));
        yield* consume(fx, h, n, sink);
        yield* Fiber.join(producer);
        return sink.result();
      });
      const unscoped = body as import('effect').Effect.Effect<Result, unknown>; // open needs no scope
      return { run: () => Effect.runPromise(scoped ? Effect.scoped(body) : unscoped) };
    },
  };
}

/** An Effect `Queue.bounded(1024)` case: the consumer takes from the queue itself. */
function effectQueueCase(name: string, note: string, produce: (fx: EffectModule, q: EffectQueue, n: number) => Eff, consume: (fx: EffectModule, q: EffectQueue, n: number, sink: Sink) => Eff): Case {
  return effectCase(name, note, (fx) => fx.Effect.runSync(fx.Queue.bounded<Msg>(CAPACITY)), (fx, q) => fx.Effect.succeed(q), false, produce, consume);
}

/** Effect `Queue.bounded(1024)`: producer `offerAll` of 100-message arrays, consumer `take(fx, q)` in a loop. */
function effectBatchCase(takeName: string, takeNote: string, take: (fx: EffectModule, q: EffectQueue) => import('effect').Effect.Effect<ArrayLike<Msg>, unknown>): Case {
  return effectQueueCase(
    `effect Queue.bounded offerAll(100)/${takeName}`,
    `Queue.bounded(1024); producer offerAll of 100-message arrays, consumer ${takeNote}`,
    (fx, q, n) =>
      fx.Effect.gen(function* () {
        for (let b = 0; b < n; b += BATCH) yield* fx.Queue.offerAll(q, freshBatch(b, n));
      }),
    (fx, q, n, sink) =>
      fx.Effect.gen(function* () {
        while (sink.count < n) {
          const xs = yield* take(fx, q);
          for (let k = 0; k < xs.length; k++) sink.take(xs[k]);
        }
      }),
  );
}

type EffectPubSub = import('effect').PubSub.PubSub<Msg>;
type EffectSubscription = import('effect').PubSub.Subscription<Msg>;

/** An Effect `PubSub.bounded(1024)` case with one subscription, taken before the producer starts. */
function effectPubSubCase(
  name: string,
  note: string,
  produce: (fx: EffectModule, ps: EffectPubSub, n: number) => Eff,
  consume: (fx: EffectModule, sub: EffectSubscription, n: number, sink: Sink) => Eff,
): Case {
  return effectCase(name, note, (fx) => fx.Effect.runSync(fx.PubSub.bounded<Msg>(CAPACITY)), (fx, ps) => fx.PubSub.subscribe(ps), true, produce, consume);
}

/**
 * The physical limit: a power-of-two ring, struct-of-arrays (a value column and an offset
 * column), monotonic head/tail indices masked on access, slots cleared on take.
 */
class RawRing<T> {
  readonly values: (T | undefined)[];
  readonly offsets: Float64Array;
  readonly mask: number;
  readonly capacity: number;
  head = 0;
  tail = 0;

  constructor(capacity: number) {
    if ((capacity & (capacity - 1)) !== 0) throw new Error('capacity must be a power of two');
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.values = new Array<T | undefined>(capacity).fill(undefined);
    this.offsets = new Float64Array(capacity);
  }

  push(v: T): boolean {
    const t = this.tail;
    if (t - this.head === this.capacity) return false;
    const i = t & this.mask;
    this.values[i] = v;
    this.offsets[i] = t;
    this.tail = t + 1;
    return true;
  }

  /** Moves everything ready into the sink. */
  drainTo(sink: Sink): void {
    const values = this.values;
    const mask = this.mask;
    let h = this.head;
    const t = this.tail;
    while (h !== t) {
      const i = h & mask;
      sink.take(values[i] as unknown as Msg);
      values[i] = undefined;
      h++;
    }
    this.head = h;
  }
}

function nextPow2(n: number): number {
  let c = 1;
  while (c < n) c *= 2;
  return c;
}

const ring: Case[] = [
  {
    name: 'ring push N then drain',
    group: 'ring',
    note: 'raw SoA ring sized to N: push every message, then drain them all',
    prepare(n) {
      const r = new RawRing<Msg>(nextPow2(n));
      return {
        run() {
          const sink = new Sink();
          for (let i = 0; i < n; i++) r.push({ id: i, v: 'x' });
          r.drainTo(sink);
          return sink.result();
        },
      };
    },
  },
  {
    name: 'ring interleaved (cap 1024)',
    group: 'ring',
    note: 'raw SoA ring of 1024: push until full, drain, repeat (the baseline for ratios)',
    prepare(n) {
      const r = new RawRing<Msg>(CAPACITY);
      return {
        run() {
          const sink = new Sink();
          for (let i = 0; i < n; i++) {
            const m = { id: i, v: 'x' };
            if (!r.push(m)) {
              r.drainTo(sink);
              r.push(m);
            }
          }
          r.drainTo(sink);
          return sink.result();
        },
      };
    },
  },
];

const emitters: Case[] = [
  {
    name: 'EventEmitter emit→on',
    group: 'emitter',
    note: "node:events, one 'm' listener, emit per message",
    prepare(n) {
      const ee = new EventEmitter();
      let sink = new Sink();
      ee.on('m', (m: Msg) => sink.take(m));
      return {
        run() {
          sink = new Sink();
          for (let i = 0; i < n; i++) ee.emit('m', { id: i, v: 'x' });
          return sink.result();
        },
      };
    },
  },
  {
    name: 'mqemitter emit→on',
    group: 'emitter',
    note: "mqemitter, one listener on topic 'bench' calling done() at once; message is { topic, id, v }",
    async prepare(n) {
      const { default: mqemitter } = await import('mqemitter');
      const mq = mqemitter();
      let sink = new Sink();
      await new Promise<void>((resolve) =>
        mq.on(
          'bench',
          (m, done) => {
            sink.take(m as unknown as Msg);
            done();
          },
          resolve,
        ),
      );
      return {
        async run() {
          sink = new Sink();
          for (let i = 0; i < n - 1; i++) mq.emit({ topic: 'bench', id: i, v: 'x' });
          if (n > 0) {
            await new Promise<void>((resolve, reject) =>
              mq.emit({ topic: 'bench', id: n - 1, v: 'x' }, (err) => (err ? reject(err) : resolve())),
            );
          }
          return sink.result();
        },
        dispose: () => new Promise<void>((resolve) => mq.close(resolve)),
      };
    },
  },
];

const rx: Case[] = [
  {
    name: 'rxjs Subject.next',
    group: 'rxjs',
    note: 'RxJS 7 Subject, one subscriber',
    async prepare(n) {
      const { Subject } = await import('rxjs');
      const subject = new Subject<Msg>();
      let sink = new Sink();
      const sub = subject.subscribe((m) => sink.take(m));
      return {
        run() {
          sink = new Sink();
          for (let i = 0; i < n; i++) subject.next({ id: i, v: 'x' });
          return sink.result();
        },
        dispose: () => sub.unsubscribe(),
      };
    },
  },
  {
    name: 'rxjs Subject filter+map',
    group: 'rxjs',
    note: "Subject.pipe(filter(m => m.v === 'x'), map(m => m.id)), one subscriber",
    async prepare(n) {
      const { Subject, filter, map } = await import('rxjs');
      const subject = new Subject<Msg>();
      let sink = new Sink();
      const sub = subject
        .pipe(
          filter((m) => m.v === 'x'),
          map((m) => m.id),
        )
        .subscribe((id) => sink.takeId(id));
      return {
        run() {
          sink = new Sink();
          for (let i = 0; i < n; i++) subject.next({ id: i, v: 'x' });
          return sink.result();
        },
        dispose: () => sub.unsubscribe(),
      };
    },
  },
  {
    name: 'rxjs Subject fan-out 4',
    group: 'rxjs',
    note: 'one Subject, 4 subscribers; figures are deliveries/s (4 per message)',
    fanout: 4,
    async prepare(n) {
      const { Subject } = await import('rxjs');
      const subject = new Subject<Msg>();
      let sinks = [new Sink(), new Sink(), new Sink(), new Sink()];
      const subs = [0, 1, 2, 3].map((k) => subject.subscribe((m) => sinks[k].take(m)));
      return {
        run() {
          sinks = [new Sink(), new Sink(), new Sink(), new Sink()];
          for (let i = 0; i < n; i++) subject.next({ id: i, v: 'x' });
          return merge(sinks);
        },
        dispose: () => subs.forEach((s) => s.unsubscribe()),
      };
    },
  },
];

const effect: Case[] = [
  effectQueueCase(
    'effect Queue.bounded offer/take',
    'Effect 4 Queue.bounded(1024); producer fiber yield* Queue.offer, consumer yield* Queue.take',
    (fx, q, n) =>
      fx.Effect.gen(function* () {
        for (let i = 0; i < n; i++) yield* fx.Queue.offer(q, { id: i, v: 'x' });
      }),
    (fx, q, n, sink) =>
      fx.Effect.gen(function* () {
        for (let k = 0; k < n; k++) sink.take(yield* fx.Queue.take(q));
      }),
  ),
  effectBatchCase('takeAll', 'takeAll (everything ready)', (fx, q) => fx.Queue.takeAll(q)),
  effectBatchCase('takeBetween(1,100)', 'takeBetween(1, 100)', (fx, q) => fx.Queue.takeBetween(q, 1, BATCH)),
  effectPubSubCase(
    'effect PubSub.bounded publish/take',
    'PubSub.bounded(1024), one subscription; producer fiber yield* PubSub.publish, consumer yield* PubSub.take',
    (fx, ps, n) =>
      fx.Effect.gen(function* () {
        for (let i = 0; i < n; i++) yield* fx.PubSub.publish(ps, { id: i, v: 'x' });
      }),
    (fx, sub, n, sink) =>
      fx.Effect.gen(function* () {
        for (let k = 0; k < n; k++) sink.take(yield* fx.PubSub.take(sub));
      }),
  ),
  effectPubSubCase(
    'effect PubSub.bounded publishAll(100)/takeAll',
    'PubSub.bounded(1024), one subscription; publishAll of 100-message arrays, takeAll',
    (fx, ps, n) =>
      fx.Effect.gen(function* () {
        for (let b = 0; b < n; b += BATCH) yield* fx.PubSub.publishAll(ps, freshBatch(b, n));
      }),
    (fx, sub, n, sink) =>
      fx.Effect.gen(function* () {
        while (sink.count < n) {
          const xs = yield* fx.PubSub.takeAll(sub);
          for (let k = 0; k < xs.length; k++) sink.take(xs[k]);
        }
      }),
  ),
];

/** A Node objectMode Readable: read() pushes until push() says stop. */
function nodeReadable(n: number): Readable {
  let i = 0;
  return new Readable({
    objectMode: true,
    highWaterMark: CAPACITY,
    read() {
      while (i < n) {
        if (!this.push({ id: i++, v: 'x' })) return;
      }
      this.push(null);
    },
  });
}

const streams: Case[] = [
  {
    name: 'node Readable for-await',
    group: 'streams',
    note: 'Readable({ objectMode, highWaterMark: 1024 }) consumed with for await',
    prepare(n) {
      return {
        async run() {
          const sink = new Sink();
          for await (const m of nodeReadable(n)) sink.take(m as Msg);
          return sink.result();
        },
      };
    },
  },
  {
    name: "node Readable 'data'",
    group: 'streams',
    note: "Readable({ objectMode, highWaterMark: 1024 }) consumed with on('data') until 'end'",
    prepare(n) {
      return {
        async run() {
          const sink = new Sink();
          const r = nodeReadable(n);
          r.on('data', (m: Msg) => sink.take(m));
          await once(r, 'end');
          return sink.result();
        },
      };
    },
  },
  {
    name: 'ReadableStream reader (hwm 1024)',
    group: 'streams',
    note: 'WHATWG ReadableStream, pull source, CountQueuingStrategy(1024), getReader().read() loop',
    prepare(n) {
      return {
        async run() {
          const sink = new Sink();
          const reader = sourceStream(n).getReader();
          for (;;) {
            const r = await reader.read();
            if (r.done) break;
            sink.take(r.value);
          }
          return sink.result();
        },
      };
    },
  },
  {
    name: 'ReadableStream pipeThrough→pipeTo',
    group: 'streams',
    note: 'same source → pipeThrough(TransformStream passing each chunk on) → pipeTo(WritableStream); hwm 1024 throughout',
    prepare(n) {
      return {
        async run() {
          const sink = new Sink();
          await sourceStream(n)
            .pipeThrough(
              new TransformStream<Msg, Msg>(
                { transform: (m, c) => c.enqueue(m) },
                new CountQueuingStrategy({ highWaterMark: CAPACITY }),
                new CountQueuingStrategy({ highWaterMark: CAPACITY }),
              ),
            )
            .pipeTo(
              new WritableStream<Msg>(
                { write: (m) => sink.take(m) },
                new CountQueuingStrategy({ highWaterMark: CAPACITY }),
              ),
            );
          return sink.result();
        },
      };
    },
  },
];

async function* generate(n: number): AsyncGenerator<Msg> {
  for (let i = 0; i < n; i++) yield { id: i, v: 'x' };
}

const asyncIter: Case[] = [
  {
    name: 'it-pushable for-await',
    group: 'async',
    note: 'it-pushable objectMode; producer pushes and awaits onEmpty() at 1024 buffered; consumer for await',
    async prepare(n) {
      const { pushable } = await import('it-pushable');
      return {
        async run() {
          const sink = new Sink();
          const p = pushable<Msg>({ objectMode: true });
          const producer = (async () => {
            for (let i = 0; i < n; i++) {
              p.push({ id: i, v: 'x' });
              if (p.readableLength >= CAPACITY) await p.onEmpty();
            }
            p.end();
          })();
          for await (const m of p) sink.take(m);
          await producer;
          return sink.result();
        },
      };
    },
  },
  {
    name: 'async generator for-await',
    group: 'async',
    note: 'async function* yielding a fresh message per step, consumed with for await',
    prepare(n) {
      return {
        async run() {
          const sink = new Sink();
          for await (const m of generate(n)) sink.take(m);
          return sink.result();
        },
      };
    },
  },
];

const codecs: Case[] = [
  {
    name: 'msgpack encode+decode',
    group: 'codec',
    note: '@msgpack/msgpack Encoder.encode then Decoder.decode per message (reused instances)',
    async prepare(n) {
      const { Decoder, Encoder } = await import('@msgpack/msgpack');
      const enc = new Encoder();
      const dec = new Decoder();
      return {
        run() {
          const sink = new Sink();
          for (let i = 0; i < n; i++) sink.take(dec.decode(enc.encode({ id: i, v: 'x' })) as Msg);
          return sink.result();
        },
      };
    },
  },
  {
    name: 'JSON stringify+parse',
    group: 'codec',
    note: 'JSON.parse(JSON.stringify(m)) per message',
    prepare(n) {
      return {
        run() {
          const sink = new Sink();
          for (let i = 0; i < n; i++) sink.take(JSON.parse(JSON.stringify({ id: i, v: 'x' })) as Msg);
          return sink.result();
        },
      };
    },
  },
];

/** Size used by the retention memory cases (here and in ringbus.ts). */
export function retainSize(_base: number, quick: boolean): number {
  return quick ? 1 << 16 : 1 << 20;
}

const memory: Case[] = [
  {
    name: 'Array retain 1M (heap)',
    group: 'memory',
    kind: 'memory',
    note: 'heap after GC of a presized plain Array holding 2^20 fresh messages (the retention baseline)',
    size: retainSize,
    prepare(n) {
      return {
        run() {
          const before = settledHeap();
          const arr = new Array<Msg>(n);
          for (let i = 0; i < n; i++) arr[i] = { id: i, v: 'x' };
          const heapBytes = settledHeap() - before;
          const sink = new Sink();
          for (let i = 0; i < arr.length; i++) sink.take(arr[i]);
          return sink.result({ heapBytes, bytesPerMsg: heapBytes / n });
        },
      };
    },
  },
];

export const peerCases: Case[] = [...ring, ...emitters, ...rx, ...effect, ...streams, ...asyncIter, ...codecs, ...memory];
