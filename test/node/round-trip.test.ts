/**
 * What a durable round trip (publish, close, reopen, read) changes in a value stored with the
 * storage's default codec (msgpack); each row of the table in docs/storage.md.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodecError, createBus } from '../../src/index.js';
import { fileStorage } from '../../src/node/index.js';
import { cleanTempDirs, tempDir } from './helpers.js';

afterAll(cleanTempDirs);

class Point {
  constructor(public x = 1) {}
  get double(): number {
    return this.x * 2;
  }
}

const sym = Symbol('s');
const cases: [string, unknown][] = [
  ['undefined', undefined],
  ['undefined in an object', { a: undefined, b: 1 }],
  ['undefined in an array', [undefined, 1]],
  ['a Map', new Map([[1, 2]])],
  ['a Set', new Set([1])],
  ['a Buffer', Buffer.from([1, 2])],
  ['a Buffer in an object', { b: Buffer.from([3]) }],
  ['a Float32Array', new Float32Array([1.5])],
  ['an ArrayBuffer', new ArrayBuffer(2)],
  ['a class instance', new Point(3)],
  ['a symbol key', { [sym]: 1, k: 1 }],
  ['-0', -0],
  ['a Date', new Date(0)],
  ['NaN', Number.NaN],
  ['a Uint8Array', new Uint8Array([7])],
  ['a plain object', { s: 'x', n: 1.5, t: true, z: null, a: [1, 'b'] }],
];

let after: Map<number, unknown>;
let live: Map<number, unknown>;
const refused: Map<string, unknown> = new Map();

beforeAll(async () => {
  const dir = tempDir('ringbus-roundtrip-');
  const bus = createBus({ storage: fileStorage(dir, { fsync: 'never' }) });
  const t = bus.topic<unknown>('t');
  for (const [, v] of cases) await t.publish(v);
  for (const [name, v] of [['a bigint', 5n], ['a function', { f: () => 1 }]] as const) {
    await t.publish(v).catch((e: unknown) => refused.set(name, e));
  }
  live = new Map();
  const c0 = t.consumer({ from: 'earliest' });
  for (let d = c0.tryRecv(); d !== undefined; d = c0.tryRecv()) live.set(d.offset, d.value);
  await bus.close();
  const again = createBus({ storage: fileStorage(dir, { fsync: 'never' }) });
  const c = again.topic<unknown>('t').consumer({ from: 'earliest' });
  after = new Map();
  for (let d = c.tryRecv(); d !== undefined; d = c.tryRecv()) after.set(d.offset, d.value);
  await again.close();
});

const at = (name: string): number => cases.findIndex(([n]) => n === name);

describe('a durable round trip (default codec msgpack)', () => {
  it('before the restart, values are the published objects themselves', () => {
    expect(live.get(at('a Map'))).toBeInstanceOf(Map);
    expect(live.get(at('undefined'))).toBeUndefined();
  });

  it('undefined becomes null, at the top, in objects and in arrays', () => {
    expect(after.get(at('undefined'))).toBeNull();
    expect(after.get(at('undefined in an object'))).toStrictEqual({ a: null, b: 1 });
    expect(after.get(at('undefined in an array'))).toStrictEqual([null, 1]);
  });

  it('a Map and a Set become {}', () => {
    expect(after.get(at('a Map'))).toStrictEqual({});
    expect(after.get(at('a Set'))).toStrictEqual({});
  });

  it('a Buffer becomes a Uint8Array with the same bytes; other typed arrays become their bytes', () => {
    const b = after.get(at('a Buffer'));
    expect(Buffer.isBuffer(b)).toBe(false);
    expect(b).toStrictEqual(new Uint8Array([1, 2]));
    expect((after.get(at('a Buffer in an object')) as { b: unknown }).b).toStrictEqual(new Uint8Array([3]));
    expect(after.get(at('a Float32Array'))).toStrictEqual(new Uint8Array(new Float32Array([1.5]).buffer));
    expect(after.get(at('an ArrayBuffer'))).toStrictEqual({});
  });

  it('a class instance becomes a plain object of its own enumerable fields; symbol keys are dropped', () => {
    const p = after.get(at('a class instance'));
    expect(p).toStrictEqual({ x: 3 });
    expect(Object.getPrototypeOf(p)).toBe(Object.prototype);
    expect(after.get(at('a symbol key'))).toStrictEqual({ k: 1 });
  });

  it('-0 becomes 0; a Date, NaN, a Uint8Array and plain JSON-like values come back equal', () => {
    expect(Object.is(after.get(at('-0')), 0)).toBe(true);
    expect(after.get(at('a Date'))).toStrictEqual(new Date(0));
    expect(after.get(at('NaN'))).toBeNaN();
    expect(after.get(at('a Uint8Array'))).toStrictEqual(new Uint8Array([7]));
    expect(after.get(at('a plain object'))).toStrictEqual({ s: 'x', n: 1.5, t: true, z: null, a: [1, 'b'] });
  });

  it('a bigint or a function is refused at publish with a CodecError (nothing stored)', () => {
    expect(refused.get('a bigint')).toBeInstanceOf(CodecError);
    expect(refused.get('a function')).toBeInstanceOf(CodecError);
    expect(after.size).toBe(cases.length);
  });
});
