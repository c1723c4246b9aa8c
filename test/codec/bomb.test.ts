/**
 * Decompression bombs: a small compressed payload that inflates to far more than anyone
 * should hold. Decompression is bounded (`maxBytes`) and stops at the bound.
 */
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CodecError } from '../../src/errors.js';
import {
  bytes as bytesCodec,
  createFramer,
  decodeFrame,
  deflate,
  deflateCompression,
  encodeFrame,
  gzip,
  gzipCompression,
  type Compression,
} from '../../src/codec/index.js';
import { createBus } from '../../src/index.js';
import { jsonCodec } from '../../src/codec/index.js';
import { DEEP, FUZZ_RUNS, SEED } from '../reliability/config.js';

const MiB = 1024 * 1024;

/** Raw DEFLATE of `mib` MiB of zeros, built from one repeated sync-flushed block run (~1 KiB per MiB). */
function zerosDeflate(mib: number): Uint8Array {
  const chunk = deflateRawSync(Buffer.alloc(MiB), { finishFlush: constants.Z_SYNC_FLUSH });
  const end = Uint8Array.of(0x03, 0x00); // an empty final block
  const out = new Uint8Array(chunk.length * mib + end.length);
  for (let i = 0; i < mib; i++) out.set(chunk, i * chunk.length);
  out.set(end, chunk.length * mib);
  return out;
}

function gzipOf(body: Uint8Array, isize: number): Uint8Array {
  const out = new Uint8Array(10 + body.length + 8);
  out.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
  out.set(body, 10);
  new DataView(out.buffer).setUint32(out.length - 4, isize >>> 0, true);
  return out;
}

function zlibOf(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + body.length + 4);
  out.set([0x78, 0x9c]);
  out.set(body, 2);
  return out;
}

function frameOf(compressionId: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(6 + payload.length);
  out.set([0xf5, 0x52, 0x42, 1, 0, compressionId]);
  out.set(payload, 6);
  return out;
}

/** Byte equality (vitest's deep equality is slow on large typed arrays). */
function same(a: unknown, b: Uint8Array): boolean {
  return a instanceof Uint8Array && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  return undefined;
}

// one 1 GiB bomb, ~1 MiB compressed
const BOMB = zerosDeflate(1024);

describe('decompression bombs', () => {
  it('the bomb is about 1 MB; its construction inflates to exactly its size in zeros', () => {
    expect(BOMB.length).toBeGreaterThan(500_000);
    expect(BOMB.length).toBeLessThan(2 * MiB);
    const three = inflateRawSync(zerosDeflate(3));
    expect(three.length).toBe(3 * MiB);
    expect(three.every((b) => b === 0)).toBe(true);
  });

  it.each([
    ['deflate', () => deflate.decompress(zlibOf(BOMB))],
    ['gzip, trailer telling 1 GiB', () => gzip.decompress(gzipOf(BOMB, 2 ** 30))],
    ['decodeFrame deflate', () => decodeFrame(frameOf(2, zlibOf(BOMB)))],
    ['decodeFrame gzip', () => decodeFrame(frameOf(1, gzipOf(BOMB, 2 ** 30)))],
    ['a framer', () => createFramer({ codec: bytesCodec, compression: deflate }).decode(frameOf(2, zlibOf(BOMB)))],
  ])("%s: a 1 MB bomb is refused with CodecError 'too-large', without inflating it in full", (_name, run) => {
    const before = process.memoryUsage().rss;
    const error = caught(run);
    const grew = process.memoryUsage().rss - before;
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).reason).toBe('too-large');
    expect(String(error)).toContain('maxBytes');
    // inflating it in full takes over 1 GiB; the bound (64 MiB) plus one step is the most held
    expect(grew).toBeLessThan(512 * MiB);
  });

  it('a gzip whose size trailer lies is stopped at the stated size (corrupt), not inflated in full', () => {
    for (const isize of [0, 1, 5 * MiB]) {
      const error = caught(() => gzip.decompress(gzipOf(BOMB, isize)));
      expect(error).toBeInstanceOf(CodecError);
      expect((error as CodecError).reason).toBe('corrupt');
      expect(String(error)).toContain(`more than the ${isize} bytes its trailer states`);
    }
  });

  it('a small gzip whose trailer understates its size is corrupt, whatever its blocks (stored or Huffman)', () => {
    for (const level of [0, 6]) {
      const packed = gzipCompression({ level }).compress(new Uint8Array(5000).fill(1));
      new DataView(packed.buffer, packed.byteOffset).setUint32(packed.length - 4, 10, true);
      const error = caught(() => gzip.decompress(packed));
      expect((error as CodecError).reason).toBe('corrupt');
      expect(String(error)).toContain('more than the 10 bytes its trailer states');
    }
  });

  it('maxBytes of the compression and of decodeFrame: the smaller wins; at the bound is allowed', () => {
    const data = new Uint8Array(100_000).fill(7);
    for (const make of [gzipCompression, deflateCompression]) {
      const c = make({ maxBytes: 100_000 });
      expect(c.maxBytes).toBe(100_000);
      expect(same(c.decompress(c.compress(data)), data)).toBe(true);
      expect((caught(() => make({ maxBytes: 99_999 }).decompress(c.compress(data))) as CodecError).reason).toBe('too-large');
      expect((caught(() => c.decompress(c.compress(data), 99_999)) as CodecError).reason).toBe('too-large');
      expect(same(c.decompress(c.compress(data), 1e9), data)).toBe(true); // a larger caller bound does not lift the compression's
      expect((caught(() => c.decompress(c.compress(new Uint8Array(100_001)), 1e9)) as CodecError).reason).toBe('too-large');
      const frame = encodeFrame(data, { codec: bytesCodec, compression: c });
      expect(same(decodeFrame(frame, { maxBytes: 100_000 }), data)).toBe(true);
      expect((caught(() => decodeFrame(frame, { maxBytes: 99_999 })) as CodecError).reason).toBe('too-large');
    }
    expect(gzip.maxBytes).toBe(64 * MiB);
    expect(deflate.maxBytes).toBe(64 * MiB);
  });

  it('a framer defaults to its compression’s larger maxBytes; decodeFrame checks a custom compression’s output', () => {
    const big = gzipCompression({ maxBytes: 80 * MiB });
    const framer = createFramer({ codec: bytesCodec, compression: big });
    const payload = new Uint8Array(65 * MiB);
    const frame = framer.encode(payload);
    expect((framer.decode(frame) as Uint8Array).length).toBe(65 * MiB);
    expect((caught(() => decodeFrame(frame)) as CodecError).reason).toBe('too-large');
    const careless: Compression = { name: 'careless', id: 200, minBytes: 0, compress: (b) => b, decompress: () => new Uint8Array(11) };
    const f = encodeFrame(new Uint8Array(1), { codec: bytesCodec, compression: careless });
    const error = caught(() => decodeFrame(f, { compressions: [careless], maxBytes: 10 }));
    expect((error as CodecError).reason).toBe('too-large');
  });

  it('rejects a bad maxBytes with a ConfigError naming it', () => {
    expect(() => gzipCompression({ maxBytes: -1 })).toThrow('`maxBytes` must be an integer 0 or more, got `-1` (number)');
    expect(() => decodeFrame(encodeFrame(1), { maxBytes: 1.5 })).toThrow('`maxBytes` must be an integer 0 or more, got `1.5` (number)');
    expect(() => createFramer({ maxBytes: '1' as never })).toThrow('`maxBytes`');
  });
});

describe('a bomb crossing into a topic', () => {
  it('a codec topic dead-letters a message that would inflate past the bound (decode-error, too-large); the group goes on', () => {
    const bus = createBus();
    // a compression that writes a bomb under the built-in deflate id: readers use the real deflate
    const evil: Compression = { name: 'evil', id: 2, minBytes: 0, compress: () => zlibOf(BOMB), decompress: (b) => b };
    const t = bus.topic<string>('t', { codec: jsonCodec(), groups: ['g'], deadLetter: 'dlq' });
    const dlq = bus.topic<Uint8Array>('dlq', { groups: ['x'] });
    t.tryPublish('boom', { compression: evil });
    t.tryPublish('fine');
    const d = t.consumer({ group: 'g' }).tryRecv()!;
    expect(d.value).toBe('fine');
    const dl = dlq.consumer({ group: 'x' }).tryRecv()!;
    expect(dl.headers['x-dead-letter-reason']).toBe('decode-error');
    expect(dl.headers['x-dead-letter-detail']).toContain('maxBytes');
  });
});

describe('bounded decompression, property', { timeout: DEEP ? 3_600_000 : 60_000 }, () => {
  const compressions = [gzip, deflate] as const;
  it(`random frames, random bounds (${FUZZ_RUNS} runs): the output never exceeds the bound, every error is a CodecError`, () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...compressions),
        fc.oneof(fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 0, max: 100_000 }).map((n) => new Uint8Array(n).fill(n & 0xff))),
        fc.integer({ min: 0, max: 120_000 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }),
        (compression, data, maxBytes, flips) => {
          const frame = encodeFrame(data, { codec: bytesCodec, compression });
          for (const [at, x] of flips) frame[6 + (at % (frame.length - 6))] ^= x;
          let out: unknown;
          try {
            out = decodeFrame(frame, { maxBytes });
          } catch (error) {
            expect(error).toBeInstanceOf(CodecError);
            // an intact frame within the bound always decodes
            if (flips.length === 0) {
              expect(data.length).toBeGreaterThan(maxBytes);
              expect((error as CodecError).reason).toBe('too-large');
            }
            return;
          }
          expect(out).toBeInstanceOf(Uint8Array);
          expect((out as Uint8Array).length).toBeLessThanOrEqual(maxBytes);
          if (flips.length === 0) expect(same(out, data)).toBe(true);
        },
      ),
      { numRuns: FUZZ_RUNS, seed: SEED },
    );
  });

  it('streamed inflate equals one-shot inflate for any data (bound never reached)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...compressions), fc.uint8Array({ minLength: 0, maxLength: 40_000 }), (compression, data) => {
        expect(same(compression.decompress(compression.compress(data), data.length), data)).toBe(true);
      }),
      { numRuns: Math.min(FUZZ_RUNS, 300), seed: SEED },
    );
  });
});
