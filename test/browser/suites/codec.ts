// ringbus/codec in a browser page: frames in every codec and compression, typed errors on
// garbage, and gzip/deflate interoperating with the browser's own CompressionStream.
import { describe, expect, it } from 'vitest';
import { CodecError } from '../../../src/errors.js';
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
  text,
  type Codec,
  type Compression,
} from '../../../src/codec/index.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The CodecError `fn` throws (failing if it throws anything else, or nothing). */
function codecErrorOf(fn: () => unknown): CodecError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CodecError);
    return error as CodecError;
  }
  throw new Error('expected a CodecError, but nothing was thrown');
}

/** Pipes `data` through one of the browser's own (de)compression streams. */
async function viaPlatform(data: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const out = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(out).arrayBuffer());
}

const values: [string, Codec<any>, unknown][] = [
  ['json', json, { id: 7, tags: ['a', 'ü', '😀'], nested: { ok: true, n: null } }],
  ['msgpack', msgpack, { id: 7, at: new Date(1_700_000_000_000), blob: new Uint8Array([0, 255, 1]) }],
  ['bytes', bytes, new Uint8Array([0, 1, 2, 253, 254, 255])],
  ['text', text, 'héllo wörld – 😀'],
];
const compressions: [string, Compression | undefined][] = [
  ['none', undefined],
  ['gzip', gzip],
  ['deflate', deflate],
];

describe('frames', () => {
  for (const [codecName, codec, value] of values) {
    for (const [compressionName, compression] of compressions) {
      it(`${codecName} + ${compressionName}: encodeFrame then decodeFrame gives the value back`, () => {
        const frame = encodeFrame(value, { codec, compression });
        expect(Array.from(frame.subarray(0, 5))).toEqual([0xf5, 0x52, 0x42, 1, codec.id]);
        expect(frame[5]).toBe(compression?.id ?? 0);
        expect(decodeFrame(frame)).toEqual(value);
      });
    }
  }

  it('compresses: a repetitive payload makes a smaller gzip or deflate frame, and a framer reads its own', () => {
    const long = 'the quick brown fox jumps over the lazy dog. '.repeat(200);
    const plain = encodeFrame(long, { codec: text });
    for (const compression of [gzip, deflate]) {
      const framer = createFramer<string>({ codec: text, compression });
      const frame = framer.encode(long);
      expect(frame.length).toBeLessThan(plain.length / 10);
      expect(framer.decode(frame)).toBe(long);
    }
  });

  it('decodes a frame that starts inside a larger buffer', () => {
    const frame = encodeFrame({ a: 1 }, { codec: msgpack, compression: gzip });
    const backing = new Uint8Array(frame.length + 11);
    backing.set(frame, 7);
    expect(decodeFrame(backing.subarray(7, 7 + frame.length))).toEqual({ a: 1 });
  });

  it("throws CodecError naming the reason on garbage: 'truncated', 'bad-magic', 'unsupported-version', 'unknown-codec', 'unknown-compression', 'corrupt', 'decode-error'", () => {
    const good = encodeFrame({ a: 1 }, { codec: json, compression: gzip });
    const with_ = (at: number, byte: number): Uint8Array => {
      const copy = good.slice();
      copy[at] = byte;
      return copy;
    };
    expect(codecErrorOf(() => decodeFrame(new Uint8Array(0))).reason).toBe('truncated');
    expect(codecErrorOf(() => decodeFrame(good.subarray(0, 3))).reason).toBe('truncated');
    expect(codecErrorOf(() => decodeFrame(new Uint8Array([1, 2, 3, 4, 5, 6, 7]))).reason).toBe('bad-magic');
    expect(codecErrorOf(() => decodeFrame(with_(3, 9))).reason).toBe('unsupported-version');
    expect(codecErrorOf(() => decodeFrame(with_(4, 200))).reason).toBe('unknown-codec');
    expect(codecErrorOf(() => decodeFrame(with_(5, 200))).reason).toBe('unknown-compression');
    expect(codecErrorOf(() => decodeFrame(with_(good.length - 6, good[good.length - 6] ^ 0xff))).reason).toBe('corrupt');
    expect(codecErrorOf(() => decodeFrame(encodeFrame(new Uint8Array([0xc1]), { codec: bytes }).map((b, i) => (i === 4 ? msgpack.id : b)))).reason).toBe('decode-error');
    expect(codecErrorOf(() => decodeFrame('not bytes' as unknown as Uint8Array)).reason).toBe('decode-error');
  });

  it('a value a codec cannot encode is a CodecError encode-error, thrown by encodeFrame', () => {
    expect(codecErrorOf(() => encodeFrame('not bytes', { codec: bytes as Codec<any> })).reason).toBe('encode-error');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(codecErrorOf(() => encodeFrame(cyclic, { codec: json })).reason).toBe('encode-error');
  });
});

describe('gzip and deflate with the platform', () => {
  const data = utf8('ringbus in a browser. '.repeat(300));

  it('gzip reads what CompressionStream("gzip") wrote, and DecompressionStream("gzip") reads what gzip wrote', async () => {
    expect(gzip.decompress(await viaPlatform(data, new CompressionStream('gzip')))).toEqual(data);
    expect(await viaPlatform(gzip.compress(data), new DecompressionStream('gzip'))).toEqual(data);
  });

  it('deflate reads what CompressionStream("deflate") wrote, and DecompressionStream("deflate") reads what deflate wrote', async () => {
    expect(deflate.decompress(await viaPlatform(data, new CompressionStream('deflate')))).toEqual(data);
    expect(await viaPlatform(deflate.compress(data), new DecompressionStream('deflate'))).toEqual(data);
  });

  it('refuses a gzip member whose trailer claims more bytes than the data can expand to, before inflating', () => {
    const member = gzip.compress(data);
    const claim = member.slice();
    new DataView(claim.buffer).setUint32(claim.length - 4, 0xfffffff0, true);
    const error = codecErrorOf(() => gzip.decompress(claim));
    expect(error.reason).toBe('corrupt');
    expect(error.message).toMatch(/trailer claims/);
  });

  it("a bomb the browser compressed (8 MiB of zeros) stops at maxBytes with 'too-large'; at the bound it decodes", async () => {
    const MiB = 1024 * 1024;
    const zeros = new Uint8Array(8 * MiB);
    for (const [format, make] of [
      ['gzip', gzipCompression],
      ['deflate', deflateCompression],
    ] as const) {
      const bomb = await viaPlatform(zeros, new CompressionStream(format));
      expect(bomb.length).toBeLessThan(64 * 1024);
      expect(codecErrorOf(() => make({ maxBytes: MiB }).decompress(bomb)).reason).toBe('too-large');
      expect(codecErrorOf(() => make().decompress(bomb, 8 * MiB - 1)).reason).toBe('too-large');
      expect(make().decompress(bomb, 8 * MiB).length).toBe(8 * MiB);
      const frame = new Uint8Array(6 + bomb.length);
      frame.set(encodeFrame(new Uint8Array(0), { codec: bytes }).subarray(0, 6));
      frame[5] = make().id;
      frame.set(bomb, 6);
      expect(codecErrorOf(() => decodeFrame(frame, { maxBytes: MiB })).reason).toBe('too-large');
    }
  });

  it("a flipped checksum is 'corrupt' for both", () => {
    for (const c of [gzip, deflate]) {
      const packed = c.compress(data).slice();
      packed[packed.length - 5] ^= 0x01;
      expect(codecErrorOf(() => c.decompress(packed)).reason).toBe('corrupt');
    }
  });
});
