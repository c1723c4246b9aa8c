import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as codec from '../../src/codec/index.js';
import {
  bytes,
  createFramer,
  decodeFrame,
  json,
  jsonCodec,
  msgpack,
  text,
  type Codec,
  type Framer,
} from '../../src/codec/index.js';

const codecDir = fileURLToPath(new URL('../../src/codec/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('ringbus/codec module', () => {
  it('imports no node: module and no Node-only package, so it runs in browsers', () => {
    for (const file of sourceFiles(codecDir)) {
      const source = readFileSync(file, 'utf8');
      const imports = [...source.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'/gm)].map((m) => m[1]);
      for (const specifier of imports) {
        expect(specifier.startsWith('.') || specifier === '@msgpack/msgpack' || specifier === 'fflate', `${file}: ${specifier}`).toBe(true);
      }
      expect(source, file).not.toMatch(/\bBuffer\b|\brequire\(|\bprocess\./);
    }
  });

  it('exports exactly the documented names', () => {
    expect(Object.keys(codec).sort()).toEqual(
      [
        'FRAME_HEADER_BYTES',
        'FRAME_MAGIC',
        'FRAME_VERSION',
        'builtinRegistry',
        'bytes',
        'createCodecRegistry',
        'createFramer',
        'decodeFrame',
        'deflate',
        'deflateCompression',
        'encodeFrame',
        'gzip',
        'gzipCompression',
        'json',
        'jsonCodec',
        'msgpack',
        'msgpackCodec',
        'text',
      ].sort(),
    );
  });

  it('types the codecs and the framer by value type', () => {
    expectTypeOf(text).toEqualTypeOf<Codec<string>>();
    expectTypeOf(bytes).toEqualTypeOf<Codec<Uint8Array>>();
    expectTypeOf(jsonCodec<{ a: number }>()).toEqualTypeOf<Codec<{ a: number }>>();
    // The default json and msgpack instances fit a topic of any value type.
    expectTypeOf(json).toMatchTypeOf<Codec<{ a: number }>>();
    expectTypeOf(msgpack).toMatchTypeOf<Codec<{ a: number }>>();
    expectTypeOf(createFramer({ codec: text })).toEqualTypeOf<Framer<string>>();
    expectTypeOf(createFramer({ codec: text }).decode).returns.toEqualTypeOf<string>();
    expectTypeOf(decodeFrame).returns.toEqualTypeOf<unknown>();
  });
});
