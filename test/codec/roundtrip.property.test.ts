import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bytes,
  createFramer,
  decodeFrame,
  deflate,
  deflateCompression,
  encodeFrame,
  gzip,
  gzipCompression,
  json,
  msgpack,
  msgpackCodec,
  text,
  type Compression,
} from '../../src/codec/index.js';

const compressions: [string, Compression | undefined][] = [
  ['none', undefined],
  ['gzip', gzip],
  ['deflate', deflate],
  ['gzip level 1', gzipCompression({ level: 1 })],
  ['deflate level 9', deflateCompression({ level: 9 })],
];

/** What JSON itself makes of a value: -0 becomes 0, and so on. */
const viaJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

/** True when some object in `v` has an own `__proto__` key (msgpack refuses such a key). */
const hasProtoKey = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && (Object.hasOwn(v, '__proto__') || Object.values(v).some(hasProtoKey));

const runs = { numRuns: 200 };

describe.each(compressions)('round trip with compression %s', (_name, compression) => {
  it('json decodes what it encoded, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const frame = encodeFrame(value, { codec: json, compression });
        expect(decodeFrame(frame)).toEqual(viaJson(value));
      }),
      runs,
    );
  });

  it('msgpack decodes what it encoded, for any JSON value, and refuses an own __proto__ key when encoding', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        if (hasProtoKey(value)) {
          expect(() => encodeFrame(value, { codec: msgpack, compression })).toThrow(expect.objectContaining({ reason: 'encode-error' }));
          return;
        }
        const frame = encodeFrame(value, { codec: msgpack, compression });
        expect(decodeFrame(frame)).toEqual(viaJson(value));
      }),
      runs,
    );
  });

  it('msgpack keeps binary, dates and nested maps and arrays', () => {
    const leaf = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.date({ noInvalidDate: true }),
      fc.string({ unit: 'grapheme' }),
      fc.integer(),
      // msgpack writes -0 as the integer 0 (it is a safe integer), so -0 comes back as 0.
      fc.double({ noNaN: true }).map((d) => (d === 0 ? 0 : d)),
      fc.boolean(),
      fc.constant(null),
    );
    const key = fc.string().filter((k) => k !== '__proto__');
    const tree = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('map')),
      array: fc.array(tie('node'), { maxLength: 5 }),
      map: fc.dictionary(key, tie('node'), { maxKeys: 5, noNullPrototype: true }),
    })).node;
    fc.assert(
      fc.property(tree, (value) => {
        const frame = encodeFrame(value, { codec: msgpack, compression });
        expect(decodeFrame(frame)).toEqual(value);
      }),
      runs,
    );
  });

  it('msgpack with useBigInt64 keeps 64-bit integers', () => {
    const codec = msgpackCodec({ useBigInt64: true });
    const framer = createFramer({ codec, compression });
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n })), (values) => {
        expect(framer.decode(framer.encode(values))).toEqual(values);
      }),
      runs,
    );
  });

  it('text decodes what it encoded, for any well-formed string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        expect(decodeFrame(encodeFrame(value, { codec: text, compression }))).toBe(value);
      }),
      runs,
    );
  });

  it('bytes decodes what it encoded, for any byte array', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (value) => {
        const decoded = decodeFrame(encodeFrame(value, { codec: bytes, compression }));
        expect(decoded).toBeInstanceOf(Uint8Array);
        expect(Array.from(decoded as Uint8Array)).toEqual(Array.from(value));
      }),
      runs,
    );
  });

  it('a framer decodes its own frames and frames from encodeFrame alike', () => {
    const framer = createFramer({ codec: msgpack, compression });
    fc.assert(
      fc.property(fc.jsonValue().filter((v) => !hasProtoKey(v)), (value) => {
        const expected = viaJson(value);
        expect(framer.decode(framer.encode(value))).toEqual(expected);
        expect(framer.decode(encodeFrame(value, { codec: json, compression: gzip }))).toEqual(expected);
      }),
      runs,
    );
  });
});
