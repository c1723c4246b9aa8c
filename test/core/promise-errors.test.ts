import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { channel, ClosedError, CodecError, ConfigError, createBus, isRingbusError, type RingbusError } from '../../src/index.js';
import { bytes } from '../../src/codec/index.js';
import { FUZZ_RUNS, SEED } from '../reliability/config.js';

/**
 * Every public method that returns a promise never throws synchronously: bad input is an
 * already-rejected promise with a typed error (DESIGN.md §2), so `Promise.all(xs.map(publish))`
 * and `.catch` see it. Each case calls one such method with bad input.
 */

type Ctor = abstract new (...args: never[]) => RingbusError;

function fixture() {
  const bus = createBus();
  const topic = bus.topic<number>('t', { groups: ['g'] });
  const binary = bus.topic<Uint8Array>('bin', { codec: bytes });
  const consumer = topic.consumer({ group: 'g' });
  const [tx, rx] = channel<number>(4);
  return { bus, topic, binary, consumer, tx, rx };
}
type Fixture = ReturnType<typeof fixture>;

/** [method, a call with bad input, the error it rejects with, what the message names]. */
const CASES: [string, (f: Fixture) => unknown, Ctor, string][] = [
  ['topic.publish', (f) => f.topic.publish(1, { ttlMs: -1 }), ConfigError, '`ttlMs`'],
  ['topic.publish', (f) => f.topic.publish(1, { key: 7 as never }), ConfigError, '`key`'],
  ['topic.publish', (f) => f.topic.publish(1, { headers: { a: 1 } as never }), ConfigError, '`headers.a`'],
  ['topic.publish', (f) => f.topic.publish(1, { signal: 'stop' as never }), ConfigError, '`signal`'],
  ['topic.publish', (f) => f.topic.publish(1, { tll: 5 } as never), ConfigError, '`tll`'],
  ['topic.publish', (f) => f.topic.publish(1, 'fast' as never), ConfigError, 'publish options'],
  ['topic.publish', (f) => f.topic.publish(1, { codec: bytes as never }), ConfigError, 'codec'],
  ['topic.publish', (f) => f.binary.publish('not bytes' as never), CodecError, 'Uint8Array'],
  ['topic.publishBatch', (f) => f.topic.publishBatch([1, 2], { ttlMs: -1 }), ConfigError, '`ttlMs`'],
  ['topic.publishBatch', (f) => f.topic.publishBatch(5 as never), ConfigError, '`values`'],
  ['topic.publishBatch', (f) => f.topic.publishBatch(null as never), ConfigError, '`values`'],
  ['topic.publishBatch', (f) => f.binary.publishBatch([new Uint8Array(1), 'x' as never]), CodecError, 'Uint8Array'],
  ['consumer.recv', (f) => f.consumer.recv({ signal: 5 as never }), ConfigError, '`signal`'],
  ['consumer.recv', (f) => f.consumer.recv(null as never), ConfigError, 'recv options'],
  ['consumer.recv', (f) => f.consumer.recv({ timeout: 5 } as never), ConfigError, '`timeout`'],
  ['consumer.recvTimeout', (f) => f.consumer.recvTimeout(-1), ConfigError, '`ms`'],
  ['consumer.recvTimeout', (f) => f.consumer.recvTimeout('500' as never), ConfigError, '`ms`'],
  ['consumer.recvTimeout', (f) => f.consumer.recvTimeout(5, { signal: {} as never }), ConfigError, '`signal`'],
  ['consumer.recvBatch', (f) => f.consumer.recvBatch(0), ConfigError, '`max`'],
  ['consumer.recvBatch', (f) => f.consumer.recvBatch(2.5), ConfigError, '`max`'],
  ['consumer.recvBatch', (f) => f.consumer.recvBatch(2, { signal: 1 as never }), ConfigError, '`signal`'],
  ['sender.send', (f) => f.tx.send(1, { signal: 'x' as never }), ConfigError, '`signal`'],
  ['sender.send', (f) => f.tx.send(1, { ttlMs: 5 } as never), ConfigError, '`ttlMs`'],
  ['receiver.recv', (f) => f.rx.recv({ signal: 1 as never }), ConfigError, '`signal`'],
  ['receiver.recvTimeout', (f) => f.rx.recvTimeout(NaN), ConfigError, '`ms`'],
  ['receiver.recvBatch', (f) => f.rx.recvBatch(-3), ConfigError, '`max`'],
  ['bus.deleteTopic', (f) => f.bus.deleteTopic(42 as never), ConfigError, '`name`'],
  ['bus.deleteTopic', (f) => f.bus.deleteTopic(''), ConfigError, '`name`'],
  // not bad arguments but a bad state: the same rule
  ['topic.publish', (f) => (void f.topic.close(), f.topic.publish(1)), ClosedError, 'closed'],
  ['topic.publishBatch', (f) => (void f.topic.close(), f.topic.publishBatch([1])), ClosedError, 'closed'],
  ['sender.send', (f) => (f.tx.close(), f.tx.send(1)), ClosedError, 'closed'],
];

/** Every method of the public objects that returns a promise; the rest return synchronously. */
const PROMISE_METHODS = {
  bus: ['deleteTopic', 'close'],
  topic: ['publish', 'publishBatch', 'close'],
  consumer: ['recv', 'recvTimeout', 'recvBatch'],
  sender: ['send'],
  receiver: ['recv', 'recvTimeout', 'recvBatch'],
};

function methodsOf(o: object): string[] {
  const names = new Set<string>();
  for (let p = o; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object) {
    for (const k of Object.getOwnPropertyNames(p)) {
      const desc = Object.getOwnPropertyDescriptor(p, k);
      if (k !== 'constructor' && typeof desc?.value === 'function' && !k.startsWith('_')) names.add(k);
    }
  }
  return [...names];
}

/** Calls `call` and returns what it returned; fails the test if it threw synchronously. */
function noThrow(call: () => unknown): unknown {
  try {
    return call();
  } catch (e) {
    expect.fail(`threw synchronously: ${String(e)}`);
  }
}

describe('promise-returning methods reject, never throw', () => {
  it.each(CASES)('%s with bad input returns a promise rejected with a typed error', async (_name, call, type, names) => {
    const f = fixture();
    const before = f.topic.stats().published + f.binary.stats().published;
    const p = noThrow(() => call(f));
    expect(p).toBeInstanceOf(Promise);
    const error = await (p as Promise<unknown>).then(
      () => expect.fail('resolved'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(type);
    expect(isRingbusError(error)).toBe(true);
    expect((error as Error).message).toContain(names);
    expect(f.topic.stats().published + f.binary.stats().published, 'nothing was published').toBe(before);
  });

  it('Promise.all over publishes sees a bad one as a rejection, and .catch handles it', async () => {
    const t = createBus().topic<number>('t');
    const ttls = [100, -1, 200];
    const all = Promise.all(ttls.map((ttlMs, i) => t.publish(i, { ttlMs })));
    await expect(all).rejects.toBeInstanceOf(ConfigError);
    const caught = await t.publish(9, { ttlMs: -1 }).catch((e: unknown) => (e as ConfigError).option);
    expect(caught).toBe('ttlMs');
  });

  it('the table covers every promise-returning method of Bus, Topic, Consumer, Sender and Receiver', async () => {
    const f = fixture();
    const objects = { bus: f.bus, topic: f.topic, consumer: f.consumer, sender: f.tx, receiver: f.rx };
    for (const [name, o] of Object.entries(objects)) {
      const listed = PROMISE_METHODS[name as keyof typeof PROMISE_METHODS];
      for (const m of listed) expect(methodsOf(o), `${name}.${m}`).toContain(m);
      const covered = new Set(CASES.map(([n]) => n));
      for (const m of listed) if (m !== 'close') expect(covered.has(`${name}.${m}`), `a bad-input case for ${name}.${m}`).toBe(true);
    }
    // every other method answers synchronously: called with harmless arguments, none returns a promise
    const sync = { bus: ['has', 'stats'], topic: ['stats', 'tryPublish'], consumer: ['tryRecv'], receiver: ['tryRecv'], sender: ['trySend'] };
    for (const [name, ms] of Object.entries(sync)) {
      const o = objects[name as keyof typeof objects] as unknown as Record<string, (...a: unknown[]) => unknown>;
      for (const m of ms) expect(o[m](name === 'bus' ? 't' : 1)).not.toBeInstanceOf(Promise);
    }
  });

  it('a bad writer.write rejects the write (and errors the stream), never throws', async () => {
    const bus = createBus();
    const writer = bus.topic<Uint8Array>('bin', { codec: bytes }).writable().getWriter();
    const p = noThrow(() => writer.write('nope' as never));
    await expect(p).rejects.toBeInstanceOf(CodecError);
  });

  it('property: any arguments to a promise-returning method give a promise, never a synchronous throw', async () => {
    const wild = fc.oneof(fc.anything(), fc.constantFrom(-1, 0, NaN, Infinity, null, undefined, '', {}, [], { signal: 1 }, { ttlMs: -1 }));
    const calls = fc.constantFrom<[string, (f: Fixture, a: unknown, b: unknown) => unknown]>(
      ['publish', (f, a, b) => f.topic.publish(a as number, b as never)],
      ['publishBatch', (f, a, b) => f.topic.publishBatch(a as never, b as never)],
      ['binary.publish', (f, a, b) => f.binary.publish(a as never, b as never)],
      ['recv', (f, a) => f.consumer.recv(a as never)],
      ['recvTimeout', (f, a, b) => f.consumer.recvTimeout(a as number, b as never)],
      ['recvBatch', (f, a, b) => f.consumer.recvBatch(a as number, b as never)],
      ['send', (f, a, b) => f.tx.send(a as number, b as never)],
      ['deleteTopic', (f, a) => f.bus.deleteTopic(a as string)],
    );
    await fc.assert(
      fc.asyncProperty(calls, wild, wild, async ([, call], a, b) => {
        const f = fixture();
        const p = noThrow(() => call(f, a, b));
        expect(p).toBeInstanceOf(Promise);
        // a wait that finds nothing stays pending: close what could be waited on, then look
        f.consumer.close();
        f.rx.close();
        f.tx.close();
        void f.topic.close();
        await (p as Promise<unknown>).catch((e: unknown) => {
          if (!(e instanceof Error && (e.name === 'AbortError' || isRingbusError(e)))) throw e;
        });
      }),
      { numRuns: Math.min(FUZZ_RUNS, 500), seed: SEED },
    );
  });
});
