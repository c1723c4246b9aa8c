import { describe, expect, it } from 'vitest';
import { CodecError, ConfigError } from '../../src/errors.js';
import {
  builtinRegistry,
  bytes,
  createCodecRegistry,
  createFramer,
  decodeFrame,
  deflate,
  encodeFrame,
  FRAME_HEADER_BYTES,
  FRAME_MAGIC,
  FRAME_VERSION,
  gzip,
  gzipCompression,
  json,
  jsonCodec,
  msgpack,
  text,
  type Codec,
  type Compression,
} from '../../src/codec/index.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

/** Runs `fn` and returns the CodecError it throws (failing if it throws anything else or nothing). */
function codecErrorOf(fn: () => unknown): CodecError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CodecError);
    return error as CodecError;
  }
  throw new Error('expected a CodecError, but nothing was thrown');
}

describe('frame layout', () => {
  it('writes magic F5 52 42, version 1, codec id, compression id, then the payload', () => {
    const frame = encodeFrame('hi', { codec: text });
    expect(Array.from(frame)).toEqual([0xf5, 0x52, 0x42, 1, 3, 0, 0x68, 0x69]);
    expect(FRAME_MAGIC).toEqual([0xf5, 0x52, 0x42]);
    expect(FRAME_VERSION).toBe(1);
    expect(FRAME_HEADER_BYTES).toBe(6);
  });

  it('uses the built-in ids: bytes 0, json 1, msgpack 2, text 3; gzip 1, deflate 2', () => {
    expect([bytes.id, json.id, msgpack.id, text.id]).toEqual([0, 1, 2, 3]);
    expect([gzip.id, deflate.id]).toEqual([1, 2]);
    expect(encodeFrame({ a: 1 }, { codec: msgpack, compression: gzip }).subarray(3, 6)).toEqual(
      new Uint8Array([1, 2, 1]),
    );
    expect(encodeFrame({ a: 1 }, { codec: json, compression: deflate })[5]).toBe(2);
    expect(encodeFrame(new Uint8Array([9]), { codec: bytes })[4]).toBe(0);
  });

  it('defaults to json and no compression', () => {
    const frame = encodeFrame({ a: 1 });
    expect(Array.from(frame.subarray(0, 6))).toEqual([0xf5, 0x52, 0x42, 1, 1, 0]);
    expect(new TextDecoder().decode(frame.subarray(6))).toBe('{"a":1}');
  });

  it('the payload of an uncompressed msgpack frame is exactly the msgpack encoding', () => {
    const value = { id: 7, tags: ['x'] };
    expect(encodeFrame(value, { codec: msgpack }).subarray(6)).toEqual(msgpack.encode(value));
  });

  it('frames never start with a byte that can begin UTF-8 text', () => {
    // 0xF5 is never valid in UTF-8.
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(encodeFrame(1))).toThrow(TypeError);
  });
});

describe('detection', () => {
  it('decodes unframed JSON text, after leading whitespace or a BOM', () => {
    expect(decodeFrame(utf8('{"a":[1,2]}'))).toEqual({ a: [1, 2] });
    expect(decodeFrame(utf8(' \t\r\n[true]'))).toEqual([true]);
    expect(decodeFrame(utf8('"s"'))).toBe('s');
    expect(decodeFrame(utf8('-1.5'))).toBe(-1.5);
    expect(decodeFrame(utf8('0'))).toBe(0);
    expect(decodeFrame(utf8('true'))).toBe(true);
    expect(decodeFrame(utf8('false'))).toBe(false);
    expect(decodeFrame(utf8('null'))).toBe(null);
    expect(decodeFrame(new Uint8Array([0xef, 0xbb, 0xbf, ...utf8('{"b":2}')]))).toEqual({ b: 2 });
  });

  it('decodes unframed JSON with a registered replacement json codec', () => {
    const upper = jsonCodec({ reviver: (_k, v) => (typeof v === 'string' ? v.toUpperCase() : v) });
    expect(decodeFrame(utf8('["a"]'), { codecs: [upper] })).toEqual(['A']);
  });

  it('reads codec and compression from the header, whatever the reader was told to write', () => {
    const framer = createFramer({ codec: text });
    expect(framer.decode(encodeFrame({ x: 1 }, { codec: msgpack, compression: deflate }))).toEqual({ x: 1 });
  });

  it('decodes binary payloads without copying them', () => {
    const frame = encodeFrame(new Uint8Array([1, 2, 3]), { codec: bytes });
    const out = decodeFrame(frame) as Uint8Array;
    expect(out.buffer).toBe(frame.buffer);
    expect(out.byteOffset).toBe(6);
  });

  it('decodes a frame that starts inside a larger buffer (a slice of a read, a pooled Buffer)', () => {
    const frame = encodeFrame({ id: 7, v: 'x' }, { codec: msgpack });
    const host = new Uint8Array(frame.length + 20).fill(0xee);
    host.set(frame, 11);
    const view = host.subarray(11, 11 + frame.length);
    expect(decodeFrame(view)).toEqual({ id: 7, v: 'x' });
    expect(createFramer({ codec: msgpack }).decode(view)).toEqual({ id: 7, v: 'x' });
    const buf = Buffer.from(frame); // small: a view into Node's shared pool, at an offset
    expect(decodeFrame(buf)).toEqual({ id: 7, v: 'x' });
    const blob = encodeFrame(new Uint8Array([1, 2, 3]), { codec: bytes });
    host.set(blob, 3);
    const out = decodeFrame(host.subarray(3, 3 + blob.length)) as Uint8Array;
    expect(Array.from(out)).toEqual([1, 2, 3]);
    expect(out.byteOffset).toBe(3 + 6);
  });
});

describe('reason codes', () => {
  it("'bad-magic' for bytes that are neither a frame nor JSON", () => {
    for (const input of [[0x00, 1, 2, 3, 4, 5, 6], [0xf5, 0x52, 0x43, 1, 1, 0, 0x31], [0x1f, 0x8b, 8], utf8('hello'), utf8('   ')]) {
      const error = codecErrorOf(() => decodeFrame(new Uint8Array(input)));
      expect(error.reason).toBe('bad-magic');
      expect(error.code).toBe('ERR_CODEC');
    }
  });

  it("'truncated' for empty input and for a frame header cut short", () => {
    expect(codecErrorOf(() => decodeFrame(new Uint8Array(0))).reason).toBe('truncated');
    const frame = encodeFrame({ a: 1 });
    for (let n = 1; n < FRAME_HEADER_BYTES; n++) {
      expect(codecErrorOf(() => decodeFrame(frame.subarray(0, n))).reason, `${n} bytes`).toBe('truncated');
    }
  });

  it("'unsupported-version' for a version this reader does not know", () => {
    const frame = encodeFrame({ a: 1 });
    frame[3] = 2;
    const error = codecErrorOf(() => decodeFrame(frame));
    expect(error.reason).toBe('unsupported-version');
    expect(error.message).toContain('version 2');
  });

  it("'unknown-codec' for a codec id nobody registered", () => {
    const frame = encodeFrame({ a: 1 });
    frame[4] = 200;
    const error = codecErrorOf(() => decodeFrame(frame));
    expect(error.reason).toBe('unknown-codec');
    expect(error.message).toContain('200');
  });

  it("'unknown-compression' for a compression id nobody registered", () => {
    const frame = encodeFrame({ a: 1 });
    frame[5] = 9;
    expect(codecErrorOf(() => decodeFrame(frame)).reason).toBe('unknown-compression');
  });

  it("'corrupt' for compressed payloads that do not decompress, with fflate's error in cause", () => {
    const frame = encodeFrame({ a: 'x'.repeat(100) }, { compression: deflate });
    const cut = frame.subarray(0, frame.length - 6);
    const error = codecErrorOf(() => decodeFrame(cut));
    expect(error.reason).toBe('corrupt');
    const garbage = new Uint8Array([0xf5, 0x52, 0x42, 1, 1, 2, 0x78, 0x9c, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1]);
    const withCause = codecErrorOf(() => decodeFrame(garbage));
    expect(withCause.reason).toBe('corrupt');
    expect(withCause.cause).toBeInstanceOf(Error);
    expect(withCause.cause).not.toBeInstanceOf(CodecError);
  });

  it("'corrupt' when the gzip CRC or size does not match the data", () => {
    const frame = encodeFrame({ a: 'y'.repeat(100) }, { compression: gzip });
    const crc = frame.slice();
    crc[crc.length - 8] ^= 0xff;
    expect(codecErrorOf(() => decodeFrame(crc)).reason).toBe('corrupt');
    const size = frame.slice();
    size[size.length - 1] = 0xff; // claims ~4 GB: rejected before allocating
    expect(codecErrorOf(() => decodeFrame(size)).reason).toBe('corrupt');
  });

  it("'decode-error' for invalid msgpack, JSON and UTF-8, with the library's error in cause", () => {
    const msgpackFrame = new Uint8Array([0xf5, 0x52, 0x42, 1, 2, 0, 0xc1]); // 0xC1 is never used
    const m = codecErrorOf(() => decodeFrame(msgpackFrame));
    expect(m.reason).toBe('decode-error');
    expect(m.cause).toBeInstanceOf(Error);
    const cut = encodeFrame({ a: [1, 2, 3] }, { codec: msgpack }).subarray(0, 9);
    expect(codecErrorOf(() => decodeFrame(cut)).reason).toBe('decode-error');
    const j = codecErrorOf(() => decodeFrame(utf8('{"a":')));
    expect(j.reason).toBe('decode-error');
    expect(j.cause).toBeInstanceOf(SyntaxError);
    const badUtf8 = new Uint8Array([0xf5, 0x52, 0x42, 1, 3, 0, 0x61, 0xff]);
    const t = codecErrorOf(() => decodeFrame(badUtf8));
    expect(t.reason).toBe('decode-error');
    expect(t.cause).toBeInstanceOf(TypeError);
    expect(codecErrorOf(() => decodeFrame('{}' as never)).reason).toBe('decode-error');
  });

  it("'encode-error' for values a codec cannot encode", () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(codecErrorOf(() => encodeFrame(cycle, { codec: json })).reason).toBe('encode-error');
    expect(codecErrorOf(() => encodeFrame(undefined, { codec: json })).reason).toBe('encode-error');
    expect(codecErrorOf(() => encodeFrame(1n, { codec: json })).reason).toBe('encode-error');
    expect(codecErrorOf(() => encodeFrame(1n, { codec: msgpack })).reason).toBe('encode-error');
    expect(codecErrorOf(() => encodeFrame(() => 1, { codec: msgpack })).reason).toBe('encode-error');
    expect(codecErrorOf(() => encodeFrame(42 as never, { codec: text })).reason).toBe('encode-error');
    expect(codecErrorOf(() => encodeFrame('\ud800', { codec: text })).reason).toBe('encode-error');
    expect(codecErrorOf(() => encodeFrame([1] as never, { codec: bytes })).reason).toBe('encode-error');
  });

  it('wraps whatever a custom codec or compression throws into a CodecError with the cause', () => {
    const boom = new RangeError('boom');
    const broken: Codec<unknown> = {
      name: 'broken', contentType: 'x/x', id: 99,
      encode: () => { throw boom; },
      decode: () => { throw boom; },
    };
    const e = codecErrorOf(() => encodeFrame(1, { codec: broken }));
    expect([e.reason, e.cause]).toEqual(['encode-error', boom]);
    const frame = new Uint8Array([0xf5, 0x52, 0x42, 1, 99, 0]);
    const d = codecErrorOf(() => decodeFrame(frame, { codecs: [broken] }));
    expect([d.reason, d.cause]).toEqual(['decode-error', boom]);
    const brokenCompression: Compression = {
      name: 'broken', id: 77, minBytes: 0,
      compress: () => { throw boom; },
      decompress: () => { throw boom; },
    };
    expect(codecErrorOf(() => encodeFrame(1, { compression: brokenCompression })).reason).toBe('encode-error');
    const c = codecErrorOf(() => decodeFrame(new Uint8Array([0xf5, 0x52, 0x42, 1, 1, 77, 0x31]), { compressions: [brokenCompression] }));
    expect([c.reason, c.cause]).toEqual(['corrupt', boom]);
  });
});

describe('compression threshold', () => {
  it('stores payloads shorter than minBytes uncompressed, and says so in the header', () => {
    const small = gzipCompression({ minBytes: 64 });
    const below = encodeFrame('x'.repeat(63), { codec: text, compression: small });
    expect(below[5]).toBe(0);
    expect(below.length).toBe(6 + 63);
    const at = encodeFrame('x'.repeat(64), { codec: text, compression: small });
    expect(at[5]).toBe(1);
    expect(decodeFrame(at)).toBe('x'.repeat(64));
    expect(decodeFrame(below)).toBe('x'.repeat(63));
  });

  it('lets encodeFrame and createFramer override the compression minBytes', () => {
    expect(encodeFrame('abc', { codec: text, compression: gzip, minBytes: 4 })[5]).toBe(0);
    expect(encodeFrame('abcd', { codec: text, compression: gzip, minBytes: 4 })[5]).toBe(1);
    const framer = createFramer({ codec: text, compression: gzip, minBytes: 1000 });
    expect(framer.encode('y'.repeat(999))[5]).toBe(0);
    expect(framer.encode('y'.repeat(1000))[5]).toBe(1);
  });

  it('compresses everything by default', () => {
    expect(encodeFrame('', { codec: text, compression: deflate })[5]).toBe(2);
    expect(decodeFrame(encodeFrame('', { codec: text, compression: deflate }))).toBe('');
  });
});

describe('registry and custom codecs', () => {
  const shout: Codec<string> = {
    name: 'shout', contentType: 'text/plain', id: 42,
    encode: (s) => new TextEncoder().encode(s.toUpperCase()),
    decode: (b) => new TextDecoder().decode(b),
  };

  it('lists the built-ins by id', () => {
    expect(builtinRegistry.codecs.map((c) => c.name)).toEqual(['bytes', 'json', 'msgpack', 'text']);
    expect(builtinRegistry.compressions.map((c) => c.name)).toEqual(['gzip', 'deflate']);
    expect(builtinRegistry.codec(2)).toBe(msgpack);
    expect(builtinRegistry.compression(0)).toBeUndefined();
  });

  it('decodes a custom codec passed to decodeFrame, and rejects it without', () => {
    const frame = encodeFrame('hey', { codec: shout });
    expect(frame[4]).toBe(42);
    expect(decodeFrame(frame, { codecs: [shout] })).toBe('HEY');
    expect(codecErrorOf(() => decodeFrame(frame)).reason).toBe('unknown-codec');
    expect(decodeFrame(frame, { registry: createCodecRegistry({ codecs: [shout] }) })).toBe('HEY');
  });

  it('a framer reads frames of its own custom codec', () => {
    const framer = createFramer({ codec: shout });
    expect(framer.decode(framer.encode('hey'))).toBe('HEY');
  });

  it('a custom codec with a built-in id replaces that built-in when decoding', () => {
    const dates = jsonCodec({ reviver: (k, v) => (k === 'at' ? new Date(v as string) : v) });
    const frame = encodeFrame({ at: new Date(5) });
    expect(decodeFrame(frame)).toEqual({ at: new Date(5).toISOString() });
    expect(decodeFrame(frame, { codecs: [dates] })).toEqual({ at: new Date(5) });
  });

  it('rejects malformed codecs and duplicate ids with ConfigError', () => {
    expect(() => encodeFrame('x', { codec: { ...shout, id: 256 } })).toThrow(ConfigError);
    expect(() => encodeFrame('x', { codec: { ...shout, id: 256 } })).toThrow(
      '`codec.id` must be an integer from 0 to 255, got `256` (number)',
    );
    expect(() => encodeFrame(1, { codec: 'json' as never })).toThrow(ConfigError);
    expect(() => decodeFrame(new Uint8Array(), { codecs: [shout, { ...shout }] })).toThrow(
      '`codecs` has two entries with id 42',
    );
    expect(() => decodeFrame(new Uint8Array(), { codecs: [{ id: 1 }] as never })).toThrow(ConfigError);
    expect(() => createFramer({ compression: { ...gzip, decompress: undefined } as never })).toThrow(ConfigError);
    expect(() => decodeFrame(new Uint8Array(), { registry: {} as never })).toThrow(
      '`registry` must be a registry from createCodecRegistry(), got `{}` (object)',
    );
    expect(() => createFramer({ minBytes: 1.5 })).toThrow('`minBytes` must be an integer 0 or more, got `1.5` (number)');
  });
});
