import { describe, expect, it } from 'vitest';
import { prng } from '../helpers.js';
import { CodecError } from '../../src/errors.js';
import { bytes, decodeFrame, deflate, encodeFrame, gzip, json, msgpack, text } from '../../src/codec/index.js';


const SAMPLE = {
  id: 42,
  name: 'order-42',
  tags: ['a', 'b', 'c'],
  lines: [
    { sku: 'X-1', qty: 2, price: 9.99 },
    { sku: 'Y-2', qty: 1, price: 120 },
  ],
  note: 'repeat repeat repeat repeat repeat repeat',
  paid: true,
  refund: null,
};

const seeds: Uint8Array[] = [
  encodeFrame(SAMPLE, { codec: json }),
  encodeFrame(SAMPLE, { codec: json, compression: gzip }),
  encodeFrame(SAMPLE, { codec: json, compression: deflate }),
  encodeFrame(SAMPLE, { codec: msgpack }),
  encodeFrame({ ...SAMPLE, at: new Date(0), blob: new Uint8Array([1, 2, 3]) }, { codec: msgpack }),
  encodeFrame(SAMPLE, { codec: msgpack, compression: gzip }),
  encodeFrame(SAMPLE, { codec: msgpack, compression: deflate }),
  encodeFrame('héllo wörld, hello world', { codec: text }),
  encodeFrame('héllo wörld, hello world', { codec: text, compression: gzip }),
  encodeFrame(new Uint8Array(64).fill(7), { codec: bytes, compression: deflate }),
  new TextEncoder().encode(JSON.stringify(SAMPLE)),
];

function mutate(frame: Uint8Array, random: () => number): Uint8Array {
  const int = (n: number) => Math.floor(random() * n);
  let out = frame.slice();
  const edits = 1 + int(4);
  for (let e = 0; e < edits; e++) {
    const kind = int(5);
    if (kind === 0 && out.length > 0) {
      // flip one bit
      const at = int(out.length);
      out[at] ^= 1 << int(8);
    } else if (kind === 1 && out.length > 0) {
      // overwrite one byte; half the time in the header
      const at = random() < 0.5 ? int(Math.min(6, out.length)) : int(out.length);
      out[at] = int(256);
    } else if (kind === 2) {
      // insert a random byte
      const at = int(out.length + 1);
      const next = new Uint8Array(out.length + 1);
      next.set(out.subarray(0, at));
      next[at] = int(256);
      next.set(out.subarray(at), at + 1);
      out = next;
    } else if (kind === 3) {
      // truncate
      out = out.slice(0, int(out.length + 1));
    } else if (out.length > 0) {
      // delete one byte
      const at = int(out.length);
      out = Uint8Array.from([...out.subarray(0, at), ...out.subarray(at + 1)]);
    }
  }
  return out;
}

function randomBytes(random: () => number): Uint8Array {
  const out = new Uint8Array(Math.floor(random() * 64));
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(random() * 256);
  // Sometimes give random bytes a valid header, so codecs and compressions see noise too.
  if (out.length >= 6 && random() < 0.5) {
    out.set([0xf5, 0x52, 0x42, 1, Math.floor(random() * 5), Math.floor(random() * 4)]);
  }
  return out;
}

describe('decodeFrame on random and mutated input', () => {
  // 100 000 inputs with RINGBUS_DEEP=1, and in a page: test/browser/chromium.test.ts runs this
  // file in Chromium (where there is no `process`) only under RINGBUS_DEEP=1.
  const deep = typeof process === 'undefined' || process.env.RINGBUS_DEEP === '1';
  const total = deep ? 100_000 : 20_000;
  it(`decodes or throws CodecError for ${total} inputs, never anything else`, () => {
    const random = prng(0x5eed);
    const reasons = new Map<string, number>();
    let decoded = 0;
    for (let i = 0; i < total; i++) {
      const input = i % 4 === 0 ? randomBytes(random) : mutate(seeds[i % seeds.length], random);
      try {
        decodeFrame(input);
        decoded++;
      } catch (error) {
        if (!(error instanceof CodecError)) {
          throw new Error(`input #${i} [${Array.from(input).join(',')}] threw a non-CodecError`, { cause: error });
        }
        reasons.set(error.reason, (reasons.get(error.reason) ?? 0) + 1);
      }
    }
    // Each reason a reader can meet on noise shows up, and some inputs still decode.
    for (const reason of ['bad-magic', 'truncated', 'unsupported-version', 'unknown-codec', 'unknown-compression', 'corrupt', 'decode-error']) {
      expect(reasons.get(reason) ?? 0, reason).toBeGreaterThan(0);
    }
    expect(decoded).toBeGreaterThan(0);
    expect(decoded + [...reasons.values()].reduce((a, b) => a + b, 0)).toBe(total);
  });

  it('never accepts a mutated compressed frame whose checksum no longer matches', () => {
    const random = prng(7);
    for (const compression of [gzip, deflate]) {
      const original = encodeFrame(SAMPLE, { codec: json, compression });
      for (let i = 0; i < 2000; i++) {
        const copy = original.slice();
        // flip one bit in the compressed payload, past the header
        const at = 6 + Math.floor(random() * (copy.length - 6));
        copy[at] ^= 1 << Math.floor(random() * 8);
        let result: unknown;
        try {
          result = decodeFrame(copy);
        } catch (error) {
          expect(error).toBeInstanceOf(CodecError);
          continue;
        }
        // A flip in gzip's header flags or mtime can be harmless; the data must be intact.
        expect(result).toEqual(SAMPLE);
      }
    }
  });
});
