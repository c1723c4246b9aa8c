/**
 * `ringbus/codec`: codecs (`json`, `msgpack`, `bytes`, `text`), compressions (`gzip`,
 * `deflate`) and a self-describing frame format whose header names both, so a reader
 * decodes without being told how the bytes were written. Runs in Node and browsers.
 *
 * @example
 * ```ts
 * import { decodeFrame, encodeFrame, gzip, msgpack } from 'ringbus/codec';
 * const frame = encodeFrame({ id: 1 }, { codec: msgpack, compression: gzip });
 * decodeFrame(frame); // { id: 1 }
 * ```
 *
 * @module
 */

export type { BuiltinCodec, Codec, CodecFor, Compression, RoundTrips } from './types.js';
export { json, jsonCodec, type JsonCodecOptions } from './json.js';
export { msgpack, msgpackCodec, type MsgpackCodecOptions, type MsgpackExtensionCodec } from './msgpack.js';
export { bytes } from './bytes.js';
export { text } from './text.js';
export { gzip, gzipCompression, type CompressionOptions } from './gzip.js';
export { deflate, deflateCompression } from './deflate.js';
export {
  builtinRegistry,
  createCodecRegistry,
  type CodecRegistry,
  type CodecRegistryOptions,
} from './registry.js';
export {
  createFramer,
  decodeFrame,
  encodeFrame,
  FRAME_HEADER_BYTES,
  FRAME_MAGIC,
  FRAME_VERSION,
  type DecodeFrameOptions,
  type EncodeFrameOptions,
  type Framer,
  type FramerOptions,
} from './frame.js';
