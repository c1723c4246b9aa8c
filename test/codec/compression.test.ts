import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CodecError, ConfigError } from '../../src/errors.js';
import { deflate, deflateCompression, gzip, gzipCompression } from '../../src/codec/index.js';

const sample = new TextEncoder().encode('the quick brown fox jumps over the lazy dog. '.repeat(50));

describe.each([
  ['gzip', gzip, gzipCompression],
  ['deflate', deflate, deflateCompression],
] as const)('%s', (name, instance, factory) => {
  it('decompresses what it compressed, for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (data) => {
        expect(instance.decompress(instance.compress(data))).toEqual(data);
      }),
      { numRuns: 100 },
    );
  });

  it('accepts every level from 0 to 9; higher levels are not larger on repetitive text', () => {
    const sizes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((level) => {
      const c = factory({ level });
      const packed = c.compress(sample);
      expect(c.decompress(packed)).toEqual(sample);
      return packed.length;
    });
    expect(sizes[0]).toBeGreaterThan(sample.length); // level 0 stores
    expect(sizes[9]).toBeLessThanOrEqual(sizes[1]);
    expect(sizes[9]).toBeLessThan(sample.length / 10);
  });

  it('has its name, id and a default minBytes of 0', () => {
    expect(instance.name).toBe(name);
    expect(instance.id).toBe(name === 'gzip' ? 1 : 2);
    expect(instance.minBytes).toBe(0);
    expect(factory({ minBytes: 100 }).minBytes).toBe(100);
  });

  it('rejects an out-of-range level with a ConfigError naming it', () => {
    let caught: unknown;
    try {
      factory({ level: 12 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).option).toBe('level');
    expect(String(caught)).toBe('ConfigError: `level` must be an integer from 0 to 9, got `12` (number)');
    expect(() => factory({ level: -1 })).toThrow(ConfigError);
    expect(() => factory({ level: 1.5 })).toThrow('`level` must be an integer from 0 to 9, got `1.5` (number)');
    expect(() => factory({ level: '9' as never })).toThrow('`level` must be an integer from 0 to 9, got `"9"` (string)');
    expect(() => factory({ minBytes: -1 })).toThrow('`minBytes` must be an integer 0 or more, got `-1` (number)');
    expect(() => factory(5 as never)).toThrow(ConfigError);
  });

  it("throws CodecError 'corrupt' on garbage, truncation and a flipped checksum", () => {
    const packed = instance.compress(sample);
    const inputs = [
      new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]),
      packed.subarray(0, packed.length - 1),
      packed.subarray(0, packed.length >> 1),
      Uint8Array.from(packed, (b, i) => (i === packed.length - 5 ? b ^ 1 : b)),
      new Uint8Array(0),
    ];
    for (const input of inputs) {
      let caught: unknown;
      try {
        instance.decompress(input);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(CodecError);
      expect((caught as CodecError).reason).toBe('corrupt');
    }
  });

  it('does not touch its input', () => {
    const copy = sample.slice();
    instance.decompress(instance.compress(copy));
    expect(copy).toEqual(sample);
  });
});

describe('gzip interoperability', () => {
  it('reads gzip members with a file name, comment and extra field', () => {
    const body = gzip.compress(sample);
    // Rebuild the header with FEXTRA | FNAME | FCOMMENT set.
    const extra = [2, 0, 0xaa, 0xbb];
    const header = [0x1f, 0x8b, 8, 4 | 8 | 16, 0, 0, 0, 0, 0, 0xff, ...extra, ...new TextEncoder().encode('a.txt'), 0, 0x63, 0];
    const member = new Uint8Array([...header, ...body.subarray(10)]);
    expect(gzip.decompress(member)).toEqual(sample);
  });
});
