import { CodecError } from '../errors.js';
import { JSON_CODEC_ID, json } from './json.js';
import { DEFAULT_MAX_BYTES } from './internal/inflate.js';
import { ENCODE_SHARED, type SharedEncoder } from './internal/shared.js';
import { checkInteger, checkOptions, describe, toCodecError } from './internal/validate.js';
import {
  builtinRegistry,
  checkCodec,
  checkRegistry,
  checkCompression,
  createCodecRegistry,
  type CodecRegistry,
} from './registry.js';
import type { Codec, CodecFor, Compression } from './types.js';

/**
 * The magic bytes that open every frame: `0xF5 'R' 'B'`. 0xF5 never occurs in UTF-8
 * text, so a frame cannot be mistaken for JSON or any other text.
 *
 * @example
 * ```ts
 * const isFrame = FRAME_MAGIC.every((b, i) => bytes[i] === b);
 * ```
 */
export const FRAME_MAGIC: readonly [0xf5, 0x52, 0x42] = Object.freeze([0xf5, 0x52, 0x42] as const);
/**
 * The frame format version this library writes and reads (byte 3 of a frame).
 *
 * @example
 * ```ts
 * encodeFrame(1)[3] === FRAME_VERSION; // true
 * ```
 */
export const FRAME_VERSION = 1;
/**
 * Bytes before the payload: magic (3), version (1), codec id (1), compression id (1).
 *
 * @example
 * ```ts
 * const payload = frame.subarray(FRAME_HEADER_BYTES);
 * ```
 */
export const FRAME_HEADER_BYTES = 6;

const M0 = 0xf5;
const M1 = 0x52;
const M2 = 0x42;

/**
 * Options of {@link encodeFrame}.
 *
 * @example
 * ```ts
 * const options: EncodeFrameOptions<Order> = { codec: msgpack, compression: gzip, minBytes: 512 };
 * ```
 */
export interface EncodeFrameOptions<T> {
  /** How to turn the value into bytes (`json` and `msgpack` only for values they give back, see {@link CodecFor}). Default: {@link json}. */
  codec?: CodecFor<T>;
  /** How to compress the payload. Default: none. */
  compression?: Compression;
  /** Payloads shorter than this are stored uncompressed. Default: `compression.minBytes`. */
  minBytes?: number;
}

/**
 * Options of {@link decodeFrame}.
 *
 * @example
 * ```ts
 * const options: DecodeFrameOptions = { codecs: [myCbor] };
 * ```
 */
export interface DecodeFrameOptions {
  /** Extra codecs, looked up by id before the registry's (same id replaces). Default: none. */
  codecs?: readonly Codec<any>[];
  /** Extra compressions, looked up by id before the registry's. Default: none. */
  compressions?: readonly Compression[];
  /** Where codec and compression ids are looked up. Default: {@link builtinRegistry}. */
  registry?: CodecRegistry;
  /**
   * The most bytes a compressed payload may decompress to; past it, decoding stops and
   * throws `CodecError` with reason `'too-large'`. A compression's own smaller `maxBytes`
   * still applies. Default: 64 MiB (67 108 864); for {@link createFramer}, the framer's
   * compression's `maxBytes` when that is larger.
   */
  maxBytes?: number;
}

/**
 * Options of {@link createFramer}: those of {@link encodeFrame} and {@link decodeFrame}.
 *
 * @example
 * ```ts
 * const options: FramerOptions<Order> = { codec: msgpack, compression: deflate, codecs: [myCbor] };
 * ```
 */
export interface FramerOptions<T> extends EncodeFrameOptions<T>, DecodeFrameOptions {}

/**
 * Encodes and decodes frames with options fixed once; see {@link createFramer}.
 *
 * @example
 * ```ts
 * const framer: Framer<Order> = createFramer({ codec: msgpack });
 * framer.decode(framer.encode(order));
 * ```
 */
export interface Framer<T> {
  /** The codec used to encode. */
  readonly codec: Codec<T>;
  /** The compression used to encode payloads of `minBytes` or more, if any. */
  readonly compression: Compression | undefined;
  /** Encodes `value` into a frame. */
  encode(value: T): Uint8Array;
  /** Decodes a frame (of any registered codec and compression) or unframed JSON text. */
  decode(bytes: Uint8Array): T;
}

/** A function that encodes with `codec`, through its shared-buffer fast path when it has one. */
function payloadEncoder(codec: Codec<unknown>): (value: unknown) => Uint8Array {
  // the fast path is ours: it throws CodecError itself and always returns a Uint8Array
  const shared = (codec as SharedEncoder)[ENCODE_SHARED];
  if (shared !== undefined) return shared;
  return (value) => {
    let payload: unknown;
    try {
      payload = codec.encode(value);
    } catch (error) {
      throw toCodecError('encode-error', `${codec.name}: cannot encode the value`, error);
    }
    if (!(payload instanceof Uint8Array)) {
      throw new CodecError('encode-error', `${codec.name}: \`encode\` returned ${describe(payload)}, not a Uint8Array`);
    }
    return payload;
  };
}

function writeFrame(
  codecId: number,
  encodePayload: (value: unknown) => Uint8Array,
  compression: Compression | undefined,
  minBytes: number,
  value: unknown,
): Uint8Array {
  let payload = encodePayload(value);
  let compressionId = 0;
  if (compression !== undefined && compression.id !== 0 && payload.length >= minBytes) {
    let compressed: unknown;
    try {
      compressed = compression.compress(payload);
    } catch (error) {
      throw toCodecError('encode-error', `${compression.name}: cannot compress`, error);
    }
    if (!(compressed instanceof Uint8Array)) {
      throw new CodecError('encode-error', `${compression.name}: \`compress\` returned ${describe(compressed)}`);
    }
    payload = compressed;
    compressionId = compression.id;
  }
  const frame = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  frame[0] = M0;
  frame[1] = M1;
  frame[2] = M2;
  frame[3] = FRAME_VERSION;
  frame[4] = codecId;
  frame[5] = compressionId;
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/** True when the first non-whitespace byte (after an optional BOM) can start JSON text. */
function looksLikeJson(input: Uint8Array): boolean {
  let i = 0;
  const n = input.length;
  if (n >= 3 && input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf) i = 3;
  for (; i < n; i++) {
    const b = input[i];
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    return (
      b === 0x7b || // {
      b === 0x5b || // [
      b === 0x22 || // "
      (b >= 0x30 && b <= 0x39) || // 0-9
      b === 0x2d || // -
      b === 0x74 || // t
      b === 0x66 || // f
      b === 0x6e // n
    );
  }
  return false;
}

function readFrame(input: Uint8Array, registry: CodecRegistry, maxBytes: number): unknown {
  if (!(input instanceof Uint8Array)) {
    throw new CodecError('decode-error', `expected a Uint8Array to decode, got ${describe(input)}`);
  }
  const n = input.length;
  if (n < FRAME_HEADER_BYTES || input[0] !== M0 || input[1] !== M1 || input[2] !== M2) {
    return readUnframed(input, registry);
  }
  if (input[3] !== FRAME_VERSION) {
    throw new CodecError('unsupported-version', `frame version ${input[3]} is not supported (this reader knows ${FRAME_VERSION})`);
  }
  const codec = registry.codec(input[4]);
  if (codec === undefined) {
    throw new CodecError('unknown-codec', `no codec with id ${input[4]} is registered`);
  }
  // a view past the header, made by the constructor: subarray's species lookup is a measurable
  // cost per message; a plain Uint8Array whatever subclass the input is
  let payload = new Uint8Array(input.buffer, input.byteOffset + FRAME_HEADER_BYTES, n - FRAME_HEADER_BYTES);
  const compressionId = input[5];
  if (compressionId !== 0) {
    const compression = registry.compression(compressionId);
    if (compression === undefined) {
      throw new CodecError('unknown-compression', `no compression with id ${compressionId} is registered`);
    }
    try {
      payload = compression.decompress(payload, maxBytes);
    } catch (error) {
      throw toCodecError('corrupt', `${compression.name}: invalid compressed data`, error);
    }
    if (!(payload instanceof Uint8Array)) {
      throw new CodecError('corrupt', `${compression.name}: \`decompress\` returned ${describe(payload)}`);
    }
    if (payload.length > maxBytes) {
      throw new CodecError('too-large', `${compression.name}: the payload decompressed to ${payload.length} bytes, more than \`maxBytes\` (${maxBytes})`);
    }
  }
  try {
    return codec.decode(payload);
  } catch (error) {
    throw toCodecError('decode-error', `${codec.name}: invalid payload`, error);
  }
}

function readUnframed(input: Uint8Array, registry: CodecRegistry): unknown {
  const n = input.length;
  if (n === 0) throw new CodecError('truncated', 'empty input: no frame header');
  if (input[0] === M0 && (n < 2 || input[1] === M1) && (n < 3 || input[2] === M2)) {
    throw new CodecError('truncated', `${n} bytes: a frame header needs ${FRAME_HEADER_BYTES}`);
  }
  if (looksLikeJson(input)) {
    const codec = registry.codec(JSON_CODEC_ID) ?? json;
    try {
      return codec.decode(input);
    } catch (error) {
      throw toCodecError('decode-error', `${codec.name}: invalid unframed JSON`, error);
    }
  }
  const shown = Array.from(input.subarray(0, 3), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new CodecError('bad-magic', `not a ringbus frame (starts with ${shown}) and not JSON text`);
}

function resolveRegistry(options: DecodeFrameOptions | undefined): CodecRegistry {
  if (options === undefined) return builtinRegistry;
  const { codecs, compressions, registry = builtinRegistry } = options;
  if (registry !== builtinRegistry) checkRegistry('registry', registry);
  if (codecs === undefined && compressions === undefined) return registry;
  return createCodecRegistry({ codecs, compressions, base: registry });
}

function resolveEncoding<T>(
  options: EncodeFrameOptions<T> | undefined,
): { codec: Codec<T>; compression: Compression | undefined; minBytes: number } {
  checkOptions('options', options);
  const { codec = json as Codec<T>, compression, minBytes } = options ?? {};
  checkCodec('codec', codec);
  if (compression !== undefined) checkCompression('compression', compression);
  if (minBytes !== undefined) checkInteger('minBytes', minBytes, 0, Number.MAX_SAFE_INTEGER);
  return { codec, compression, minBytes: minBytes ?? compression?.minBytes ?? 0 };
}

/**
 * Encodes `value` into a frame: a 6-byte header (magic, version, codec id, compression
 * id) and the payload, in one buffer. For repeated encodes, {@link createFramer} skips
 * the per-call option checks.
 *
 * @param value - The value to encode.
 * @param options - `codec` (default `json`), `compression` (default none), `minBytes`.
 * @throws ConfigError when an option is invalid; CodecError (`'encode-error'`) when the
 * value cannot be encoded.
 * @example
 * ```ts
 * const frame = encodeFrame({ id: 1 }, { codec: msgpack, compression: gzip });
 * decodeFrame(frame); // { id: 1 }
 * ```
 */
export function encodeFrame<T>(value: T, options?: EncodeFrameOptions<T>): Uint8Array {
  const { codec, compression, minBytes } = resolveEncoding(options);
  return writeFrame(codec.id, payloadEncoder(codec as Codec<unknown>), compression, minBytes, value);
}

/**
 * Decodes a frame, reading codec and compression from its header; bytes without a frame
 * header that start (after whitespace) like JSON text are decoded as JSON. The result
 * may share memory with `bytes` (binary values, the `bytes` codec).
 *
 * @param bytes - A frame, or unframed JSON text.
 * @param options - Extra `codecs`/`compressions`, or another `registry`; `maxBytes`, the
 * bound on a decompressed payload (default 64 MiB).
 * @throws CodecError with `reason` `'truncated'`, `'bad-magic'`, `'unsupported-version'`,
 * `'unknown-codec'`, `'unknown-compression'`, `'corrupt'`, `'too-large'` or `'decode-error'`.
 * @example
 * ```ts
 * decodeFrame(encodeFrame([1, 2], { codec: msgpack })); // [1, 2]
 * decodeFrame(new TextEncoder().encode(' {"a":1}')); // { a: 1 }
 * ```
 */
export function decodeFrame(bytes: Uint8Array, options?: DecodeFrameOptions): unknown {
  checkOptions('options', options);
  return readFrame(bytes, resolveRegistry(options), resolveMaxBytes(options?.maxBytes, DEFAULT_MAX_BYTES));
}

function resolveMaxBytes(maxBytes: unknown, fallback: number): number {
  return maxBytes === undefined ? fallback : checkInteger('maxBytes', maxBytes, 0, Number.MAX_SAFE_INTEGER);
}

/**
 * Creates a {@link Framer}: `encodeFrame`/`decodeFrame` with options checked once and
 * the registry built once, for hot paths.
 *
 * The framer's own codec and compression are registered for decoding too, so a framer
 * with a custom codec reads its own frames.
 *
 * @param options - `codec` (default `json`), `compression`, `minBytes`, and the
 * decoding options `codecs`, `compressions`, `registry`, `maxBytes`.
 * @throws ConfigError when an option is invalid.
 * @example
 * ```ts
 * const framer = createFramer<Order>({ codec: msgpack, compression: gzip, minBytes: 1024 });
 * const frame = framer.encode(order);
 * const again: Order = framer.decode(frame);
 * ```
 */
export function createFramer<T>(options?: FramerOptions<T>): Framer<T> {
  const { codec, compression, minBytes } = resolveEncoding(options);
  const { codecs = [], compressions = [], registry: base = builtinRegistry } = options ?? {};
  const own = compression?.maxBytes;
  const maxBytes = resolveMaxBytes(options?.maxBytes, typeof own === 'number' && own > DEFAULT_MAX_BYTES ? own : DEFAULT_MAX_BYTES);
  const withOwn = <E extends { readonly id: number }>(entry: E, list: readonly E[]): readonly E[] =>
    Array.isArray(list) && list.some((e) => e?.id === entry.id) ? list : [entry, ...list];
  const registry = createCodecRegistry({
    base,
    codecs: withOwn(codec as Codec<any>, codecs),
    compressions: compression === undefined || compression.id === 0 ? compressions : withOwn(compression, compressions),
  });
  const codecId = codec.id;
  const encodePayload = payloadEncoder(codec as Codec<unknown>);
  return {
    codec,
    compression,
    encode: (value) => writeFrame(codecId, encodePayload, compression, minBytes, value),
    decode: (input) => readFrame(input, registry, maxBytes) as T,
  };
}
