/**
 * Fuzzing of every input boundary of the public API: options objects and method arguments get
 * random types and values (wild ones and valid ones mixed). Each call must either succeed with a
 * valid object or throw (or reject with) a `ConfigError` — never another exception type — and a
 * refused call must leave nothing half-built: no topic, no group, unchanged stats, the caller's
 * options object untouched.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { expect } from './cheap-expect.js';
import { channel, createBus, type Delivery, isRingbusError } from '../../src/index.js';
import { virtualTime } from '../helpers.js';
import { FUZZ_RUNS, report, SEED, TIMEOUT } from './config.js';

/** Every topic runs on virtual time: no real timer is armed by a fuzzed TTL or timeout. */
const vtAll = virtualTime();

const wild: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ withBigInt: true, withBoxedValues: true, withMap: true, withSet: true, withTypedArray: true, withDate: true, withNullPrototype: true }),
  fc.constantFrom<unknown>(NaN, Infinity, -Infinity, -0, 0, 1, -1, 0.5, 1.5, 2, 17, 2 ** 20, 2 ** 20 + 1, 2 ** 30, 2 ** 30 + 1, 2 ** 53, Number.MAX_VALUE, Number.MIN_VALUE, '', 'x', '1', null, undefined, [], {}, true, false),
  fc.constantFrom<unknown>(Symbol('s'), 10n, () => 1, new Date(0), new AbortController().signal, { offset: 1 }, { offset: -1 }, { offset: 1.5 }, ['g'], ['g', 'g'], [1]),
  fc.integer(),
  fc.double(),
);

/** A value that is valid for the option most of the time, wild otherwise. */
const opt = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ arbitrary: valid, weight: 3 }, { arbitrary: wild, weight: 1 });

const topicOptions = fc.record(
  {
    capacity: opt(fc.integer({ min: 1, max: 64 })),
    overflow: opt(fc.constantFrom('block', 'drop-oldest', 'reject', 'grow')),
    growthFactor: opt(fc.double({ min: 1.01, max: 16, noNaN: true })),
    maxCapacity: opt(fc.integer({ min: 1, max: 1024 })),
    shrinkThreshold: opt(fc.double({ min: 0.01, max: 0.99, noNaN: true })),
    ttlMs: opt(fc.oneof(fc.integer({ min: 1, max: 1e6 }), fc.constant(Infinity))),
    groups: opt(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 3 }), { maxLength: 3 })),
    ackTimeoutMs: opt(fc.oneof(fc.integer({ min: 1, max: 1e6 }), fc.constant(Infinity))),
    maxDeliveries: opt(fc.oneof(fc.integer({ min: 1, max: 10 }), fc.constant(Infinity))),
    deadLetter: opt(fc.string({ minLength: 1, maxLength: 5 })),
    scheduler: opt(fc.constant(vtAll.scheduler)),
  },
  { requiredKeys: [] },
).chain(withBogus);

const consumerOptions = fc.record(
  {
    group: opt(fc.string({ minLength: 1, maxLength: 4 })),
    from: opt(fc.oneof(fc.constantFrom('earliest', 'latest', 'committed'), fc.record({ offset: fc.nat(20) }))),
    prefetch: opt(fc.integer({ min: 1, max: 2 ** 20 })),
    filter: opt(fc.constant((m: { value: unknown }) => m.value !== 3)),
    ack: opt(fc.constantFrom('manual', 'auto')),
    signal: opt(fc.constant(new AbortController().signal)),
  },
  { requiredKeys: [] },
).chain(withBogus);

const publishOptions = fc.record(
  {
    key: opt(fc.string()),
    headers: opt(fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 3 })),
    ttlMs: opt(fc.oneof(fc.integer({ min: 1, max: 1e6 }), fc.constant(Infinity))),
    signal: opt(fc.constant(new AbortController().signal)),
  },
  { requiredKeys: [] },
).chain(withBogus);

const channelOptions = fc.record(
  {
    ackTimeoutMs: opt(fc.oneof(fc.integer({ min: 1, max: 1e6 }), fc.constant(Infinity))),
    maxDeliveries: opt(fc.oneof(fc.integer({ min: 1, max: 10 }), fc.constant(Infinity))),
    prefetch: opt(fc.integer({ min: 1, max: 2 ** 20 })),
    scheduler: opt(fc.constant(vtAll.scheduler)),
  },
  { requiredKeys: [] },
).chain(withBogus);

/** Now and then an unknown option on top (always a ConfigError). */
function withBogus<T extends object>(o: T): fc.Arbitrary<T> {
  return fc.oneof({ arbitrary: fc.constant(o), weight: 7 }, { arbitrary: wild.map((v) => ({ ...o, bogus: v })), weight: 1 });
}

/** The caller's options object or a wild non-object in its place. */
const orWild = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ arbitrary: a, weight: 5 }, { arbitrary: wild, weight: 1 });

/** A shallow snapshot to prove options are never mutated. */
function snapshot(o: unknown): unknown {
  if (typeof o !== 'object' || o === null) return o;
  return Object.entries(o).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v]);
}

let tried = 0;
let refused = 0;

/** Runs `f`; it must succeed or throw a ConfigError. Returns true when it succeeded. */
function accepts(f: () => unknown): boolean {
  tried++;
  try {
    f();
    return true;
  } catch (e) {
    if (!(isRingbusError(e) && e.code === 'ERR_CONFIG')) throw new Error(`expected ConfigError, got ${String(e)}`, { cause: e });
    expect((e as Error).message.length).toBeGreaterThan(10);
    refused++;
    return false;
  }
}

/** Same for something that may also reject asynchronously. */
async function acceptsAsync(f: () => Promise<unknown>): Promise<boolean> {
  tried++;
  try {
    await f();
    return true;
  } catch (e) {
    if (!(isRingbusError(e) && e.code === 'ERR_CONFIG')) throw new Error(`expected ConfigError, got ${String(e)}`, { cause: e });
    refused++;
    return false;
  }
}

/**
 * Same for a method that returns a promise: it never throws synchronously, a refusal is a
 * rejection with ConfigError (DESIGN.md §2), so `Promise.all(xs.map(publish))` and `.catch` see it.
 */
async function acceptsPromise(f: () => unknown): Promise<boolean> {
  let p: unknown;
  try {
    p = f();
  } catch (e) {
    throw new Error(`a promise-returning method threw synchronously: ${String(e)}`, { cause: e });
  }
  expect(p).toBeInstanceOf(Promise);
  return acceptsAsync(() => p as Promise<unknown>);
}

describe('fuzzing input boundaries: ConfigError or a valid object, never a crash or a half-built topic', () => {
  it(
    'bus.topic(name, options)',
    () => {
      let n = 0;
      fc.assert(
        fc.property(orWild(topicOptions), fc.boolean(), (options, again) => {
          // a fresh bus per input, with one topic already there (stats must not change on refusal)
          const bus = createBus({ scheduler: vtAll.scheduler });
          bus.topic('existing', { groups: ['g'] }).tryPublish(0);
          const name = `t${n++}`;
          const before = JSON.stringify(bus.stats().topics);
          const snap = snapshot(options);
          const ok = accepts(() => bus.topic(name, options as never));
          expect(snapshot(options), 'options are never mutated').toEqual(snap);
          expect(bus.has(name)).toBe(ok);
          if (!ok) {
            expect(JSON.stringify(bus.stats().topics), 'a refused topic leaves stats unchanged').toBe(before);
            return;
          }
          const s = bus.stats().topics[name];
          expect(s.size).toBe(0);
          expect(s.capacity).toBeGreaterThanOrEqual(1);
          // asking again with the same options gives the same topic; a topic is a usable object
          if (again) {
            const t = bus.topic(name, options as never);
            expect(t).toBe(bus.topic(name));
            expect(t.tryPublish(1)).toBe(true);
          }
        }),
        { numRuns: FUZZ_RUNS, seed: SEED },
      );
    },
    TIMEOUT,
  );

  it(
    'topic.consumer / messages / values / readable / consume options',
    () => {
      fc.assert(
        fc.property(orWild(consumerOptions), fc.constantFrom('consumer', 'messages', 'values', 'readable', 'consume'), (options, face) => {
          const t = createBus({ scheduler: vtAll.scheduler }).topic<number>('t', { groups: ['g'] });
          t.tryPublish(1);
          const before = JSON.stringify(t.stats());
          const snap = snapshot(options);
          let made: unknown;
          const ok = accepts(() => {
            made = (t as unknown as Record<string, (o: unknown) => unknown>)[face](options);
          });
          expect(snapshot(options)).toEqual(snap);
          if (!ok) {
            expect(JSON.stringify(t.stats()), 'a refused consumer creates no group and no member').toBe(before);
            return;
          }
          expect(made).toBeTruthy();
          if (face === 'readable') void (made as ReadableStream).cancel(); // a readable opens its member at construction
          if (face === 'consumer') {
            const c = made as { tryRecv(): Delivery<number> | undefined; close(): void };
            c.tryRecv()?.ack();
            c.close();
          }
        }),
        { numRuns: FUZZ_RUNS, seed: SEED },
      );
    },
    TIMEOUT,
  );

  it(
    'publish / tryPublish / publishBatch options: a refused publish publishes nothing (tryPublish throws, publish and publishBatch reject)',
    async () => {
      await fc.assert(
        fc.asyncProperty(orWild(publishOptions), fc.constantFrom('publish', 'tryPublish', 'publishBatch'), async (options, how) => {
          const t = createBus({ scheduler: vtAll.scheduler }).topic<number>('t', { groups: ['g'], capacity: 4 });
          const before = t.stats().published;
          const snap = snapshot(options);
          let ok: boolean;
          if (how === 'tryPublish') ok = accepts(() => t.tryPublish(1, options as never));
          else {
            // a valid publish resolves, or rejects with the signal's reason if it was aborted
            const aborted = (options as { signal?: AbortSignal } | undefined)?.signal?.aborted === true;
            const call = () => (how === 'publishBatch' ? t.publishBatch([1, 2], options as never) : t.publish(1, options as never));
            ok = aborted ? await acceptsPromise(() => call().catch((e: unknown) => expect(isRingbusError(e)).toBe(false))) : await acceptsPromise(call);
          }
          expect(snapshot(options)).toEqual(snap);
          if (!ok) expect(t.stats().published).toBe(before);
        }),
        { numRuns: FUZZ_RUNS, seed: SEED },
      );
    },
    TIMEOUT,
  );

  it(
    'channel(capacity, options)',
    () => {
      fc.assert(
        fc.property(opt(fc.integer({ min: 1, max: 64 })), orWild(channelOptions), (capacity, options) => {
          const snap = snapshot(options);
          let pair: unknown;
          const ok = accepts(() => {
            const o = typeof options === 'object' && options !== null && !Array.isArray(options) && !('scheduler' in options) ? { ...options, scheduler: vtAll.scheduler } : options;
            pair = channel(capacity as number, o as never);
          });
          expect(snapshot(options)).toEqual(snap);
          if (ok) {
            const [tx, rx] = pair as ReturnType<typeof channel<number>>;
            expect(tx.trySend(1)).toBe(true);
            rx.tryRecv()?.ack();
            tx.close();
          }
        }),
        { numRuns: FUZZ_RUNS, seed: SEED },
      );
    },
    TIMEOUT,
  );

  it(
    'method arguments: nack({ delayMs }), recvBatch(n), recvTimeout(ms), seek(n), commit(n), term(reason), stats$(ms)',
    async () => {
      const vt = virtualTime();
      await fc.assert(
        fc.asyncProperty(wild, fc.constantFrom('nack', 'nackOptions', 'recvBatch', 'recvTimeout', 'seek', 'commit', 'term', 'stats$'), async (arg, what) => {
          const bus = createBus({ scheduler: vt.scheduler });
          const t = bus.topic<number>('t', { groups: ['g'] });
          t.tryPublish(1);
          t.tryPublish(2);
          const c = t.consumer({ group: 'g' });
          const d = c.tryRecv() as Delivery<number>;
          const before = JSON.stringify(t.stats());
          switch (what) {
            case 'nack':
              if (!accepts(() => d.nack({ delayMs: arg as number }))) {
                expect(d.settled, 'a refused nack leaves the delivery held').toBe(false);
                expect(JSON.stringify(t.stats())).toBe(before);
              }
              break;
            case 'nackOptions':
              if (!accepts(() => d.nack(arg as never))) expect(d.settled).toBe(false);
              break;
            case 'recvBatch': {
              const ok = await acceptsPromise(() => c.recvBatch(arg as number));
              if (!ok) expect(JSON.stringify(t.stats())).toBe(before);
              break;
            }
            case 'recvTimeout': {
              await acceptsPromise(() => {
                const p = c.recvTimeout(arg as number);
                vt.advance(1e7);
                return p;
              });
              break;
            }
            case 'seek':
            case 'commit':
              if (!accepts(() => c[what](arg as number))) expect(JSON.stringify(t.stats())).toBe(before);
              break;
            case 'term':
              if (!accepts(() => d.term(arg as string))) expect(d.settled, 'a refused term leaves the delivery held').toBe(false);
              break;
            case 'stats$':
              if (accepts(() => bus.stats$(arg as number).subscribe().unsubscribe())) expect(typeof arg).toBe('number');
              break;
          }
          c.close();
        }),
        { numRuns: FUZZ_RUNS, seed: SEED },
      );
      report(`fuzz: ${tried} inputs tried, ${refused} refused with ConfigError, 0 other exceptions`);
    },
    TIMEOUT,
  );
});
