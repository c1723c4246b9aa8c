import { ExtensionCodec } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { CodecError, ConfigError } from '../../src/errors.js';
import { bytes, json, jsonCodec, msgpack, msgpackCodec, text, type Codec } from '../../src/codec/index.js';

const reasonOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CodecError);
    return (error as CodecError).reason;
  }
  throw new Error('nothing was thrown');
};

describe('json', () => {
  it('encodes UTF-8 JSON text and names itself', () => {
    expect(new TextDecoder().decode(json.encode({ é: [1, 'ü'] }))).toBe('{"é":[1,"ü"]}');
    expect([json.name, json.contentType, json.id]).toEqual(['json', 'application/json', 1]);
  });

  it('applies the replacer when encoding and the reviver when decoding', () => {
    const codec = jsonCodec<{ at: Date; secret?: string }>({
      replacer: (k, v) => (k === 'secret' ? undefined : v),
      reviver: (k, v) => (k === 'at' ? new Date(v as string) : v),
    });
    const out = codec.decode(codec.encode({ at: new Date(1000), secret: 'x' }));
    expect(out).toEqual({ at: new Date(1000) });
  });

  it('rejects invalid UTF-8 even when the text would parse', () => {
    expect(reasonOf(() => json.decode(new Uint8Array([0x22, 0xff, 0x22])))).toBe('decode-error');
  });
});

describe('msgpack', () => {
  it('round-trips Dates through the timestamp extension', () => {
    const at = new Date(Date.UTC(2024, 1, 29, 12, 0, 0, 123));
    const bytesOut = msgpack.encode({ at });
    expect(bytesOut).toContain(0xff); // ext type -1
    expect(msgpack.decode(bytesOut)).toEqual({ at });
  });

  it('round-trips bigint only with useBigInt64', () => {
    expect(reasonOf(() => msgpack.encode(2n ** 63n - 1n))).toBe('encode-error');
    const big = msgpackCodec({ useBigInt64: true });
    expect(big.decode(big.encode({ n: 2n ** 63n - 1n, m: -(2n ** 63n) }))).toEqual({ n: 2n ** 63n - 1n, m: -(2n ** 63n) });
  });

  it('uses a custom extension codec', () => {
    const extensionCodec = new ExtensionCodec();
    extensionCodec.register({
      type: 1,
      encode: (v: unknown) => (v instanceof Set ? msgpack.encode([...v]) : null),
      decode: (data: Uint8Array) => new Set(msgpack.decode(data) as unknown[]),
    });
    const codec = msgpackCodec({ extensionCodec });
    expect(codec.decode(codec.encode({ s: new Set([1, 2]) }))).toEqual({ s: new Set([1, 2]) });
  });

  it('reuses one encoder: consecutive encodes return independent arrays', () => {
    const a = msgpack.encode({ a: 1 });
    const b = msgpack.encode({ b: 2 });
    expect(msgpack.decode(a)).toEqual({ a: 1 });
    expect(msgpack.decode(b)).toEqual({ b: 2 });
  });

  it('is reentrant: an extension may use the same codec while it encodes', () => {
    const extensionCodec = new ExtensionCodec();
    let codec: Codec<unknown>;
    extensionCodec.register({
      type: 2,
      encode: (v: unknown) => (v instanceof Map ? codec.encode([...v]) : null),
      decode: (data: Uint8Array) => new Map(codec.decode(data) as [unknown, unknown][]),
    });
    codec = msgpackCodec({ extensionCodec });
    const value = { m: new Map([['k', { deep: new Map([[1, 2]]) }]]) };
    expect(codec.decode(codec.encode(value))).toEqual(value);
  });

  it('rejects invalid input and trailing bytes with decode-error', () => {
    expect(reasonOf(() => msgpack.decode(new Uint8Array([0xc1])))).toBe('decode-error');
    expect(reasonOf(() => msgpack.decode(new Uint8Array([0x01, 0x02])))).toBe('decode-error');
    expect(reasonOf(() => msgpack.decode(new Uint8Array([])))).toBe('decode-error');
  });

  it('refuses an own __proto__ key when encoding, at any depth, as its decoder refuses it', () => {
    const own = JSON.parse('{"__proto__": [1], "a": 1}') as unknown;
    expect(reasonOf(() => msgpack.encode(own))).toBe('encode-error');
    expect(reasonOf(() => msgpack.encode({ list: [{ deep: own }] }))).toBe('encode-error');
    expect(reasonOf(() => msgpackCodec({ extensionCodec: new ExtensionCodec() }).encode(own))).toBe('encode-error');
    // left out by ignoreUndefined, the key is never written, so there is nothing to refuse
    const lenient = msgpackCodec({ ignoreUndefined: true });
    expect(lenient.decode(lenient.encode(JSON.parse('{"a": 1}') as object & { ['__proto__']?: unknown }))).toEqual({ a: 1 });
    const undefinedKey = Object.defineProperty({ a: 1 }, '__proto__', { value: undefined, enumerable: true });
    expect(lenient.decode(lenient.encode(undefinedKey))).toEqual({ a: 1 });
    // an inherited __proto__ (every plain object's) is not a key
    expect(msgpack.decode(msgpack.encode({ a: { b: 1 } }))).toEqual({ a: { b: 1 } });
  });

  it('enforces decoding limits', () => {
    const codec = msgpackCodec({ maxArrayLength: 2 });
    expect(reasonOf(() => codec.decode(msgpack.encode([1, 2, 3])))).toBe('decode-error');
  });
});

describe('text', () => {
  it('encodes UTF-8 and decodes strictly', () => {
    expect(Array.from(text.encode('é'))).toEqual([0xc3, 0xa9]);
    expect(text.decode(new Uint8Array([0xc3, 0xa9]))).toBe('é');
    expect(reasonOf(() => text.decode(new Uint8Array([0xc3])))).toBe('decode-error');
    expect(reasonOf(() => text.decode(new Uint8Array([0xed, 0xa0, 0x80])))).toBe('decode-error');
  });
});

describe('bytes', () => {
  it('is the identity and copies nothing', () => {
    const data = new Uint8Array([1, 2, 3]);
    expect(bytes.encode(data)).toBe(data);
    expect(bytes.decode(data)).toBe(data);
    expect([bytes.name, bytes.contentType, bytes.id]).toEqual(['bytes', 'application/octet-stream', 0]);
  });
});

describe('codec options', () => {
  it('rejects invalid options synchronously with ConfigError', () => {
    expect(() => jsonCodec({ reviver: 'x' as never })).toThrow(ConfigError);
    expect(() => jsonCodec({ reviver: 'x' as never })).toThrow(
      '`reviver` must be a function or undefined, got `"x"` (string)',
    );
    expect(() => msgpackCodec({ useBigInt64: 1 as never })).toThrow(
      '`useBigInt64` must be a boolean or undefined, got `1` (number)',
    );
    expect(() => msgpackCodec({ maxDepth: 0 })).toThrow('`maxDepth` must be an integer from 1 to 10000, got `0` (number)');
    expect(() => msgpackCodec(null as never)).toThrow(ConfigError);
  });
});
