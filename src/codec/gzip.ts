import { gzipSync, inflateSync } from 'fflate';
import { CodecError } from '../errors.js';
import { crc32, readU32LE } from './internal/checksum.js';
import { compressionOptions } from './internal/compression-options.js';
import { toCodecError } from './internal/validate.js';
import type { Compression } from './types.js';

/** The frame id of gzip compression. */
export const GZIP_COMPRESSION_ID = 1;

/**
 * Options of {@link gzipCompression} and {@link deflateCompression}.
 *
 * @example
 * ```ts
 * const options: CompressionOptions = { level: 9, minBytes: 1024 };
 * ```
 */
export interface CompressionOptions {
  /** Compression level, an integer from 0 (store) to 9 (smallest). Default: 6. */
  level?: number;
  /** Payloads shorter than this many bytes are stored uncompressed. Default: 0 (always compress). */
  minBytes?: number;
}

// A DEFLATE stream expands its input at most ~1032 times; a larger ISIZE is corrupt.
const MAX_RATIO = 1032;

/** Where the compressed data of a gzip member starts (RFC 1952 §2.3), or -1 if the header is bad. */
function gzipBodyStart(data: Uint8Array): number {
  if (data.length < 18 || data[0] !== 0x1f || data[1] !== 0x8b || data[2] !== 8) return -1;
  const flags = data[3];
  if (flags & 0xe0) return -1;
  let at = 10;
  if (flags & 4) at += 2 + (data[10] | (data[11] << 8)); // FEXTRA
  for (const bit of [8, 16]) {
    // FNAME, FCOMMENT: zero-terminated
    if (flags & bit) {
      while (at < data.length && data[at] !== 0) at++;
      at++;
    }
  }
  if (flags & 2) at += 2; // FHCRC
  return at + 8 <= data.length ? at : -1;
}

/**
 * Creates a gzip {@link Compression} (id 1) at the given level, using fflate's
 * synchronous functions (Node and browsers). Decompression checks the CRC-32 and size
 * in the gzip trailer; bad data throws `CodecError` with reason `'corrupt'`.
 *
 * @param options - `level` (0 to 9, default 6) and `minBytes` (default 0).
 * @throws ConfigError when an option is out of range.
 * @example
 * ```ts
 * const gz = gzipCompression({ level: 9, minBytes: 512 });
 * const frame = encodeFrame(report, { codec: json, compression: gz });
 * ```
 */
export function gzipCompression(options?: CompressionOptions): Compression {
  const { level, minBytes } = compressionOptions(options);
  const fflateOptions = { level };
  return {
    name: 'gzip',
    id: GZIP_COMPRESSION_ID,
    minBytes,
    compress(input: Uint8Array): Uint8Array {
      try {
        return gzipSync(input, fflateOptions);
      } catch (error) {
        throw toCodecError('encode-error', 'gzip: cannot compress', error);
      }
    },
    decompress(input: Uint8Array): Uint8Array {
      const start = gzipBodyStart(input);
      if (start < 0) throw new CodecError('corrupt', 'gzip: invalid header');
      const end = input.length - 8;
      const size = readU32LE(input, end + 4);
      if (size > (end - start) * MAX_RATIO + 16) {
        throw new CodecError('corrupt', `gzip: the trailer claims ${size} bytes, more than the data can hold`);
      }
      let output: Uint8Array;
      try {
        output = inflateSync(input.subarray(start, end));
      } catch (error) {
        throw toCodecError('corrupt', 'gzip: invalid compressed data', error);
      }
      if (output.length !== size || crc32(output) !== readU32LE(input, end)) {
        throw new CodecError('corrupt', 'gzip: checksum or size mismatch');
      }
      return output;
    },
  };
}

/**
 * gzip compression (id 1) at level 6, compressing every payload.
 *
 * @example
 * ```ts
 * const frame = encodeFrame({ hello: 'world' }, { codec: json, compression: gzip });
 * decodeFrame(frame); // { hello: 'world' }
 * ```
 */
export const gzip: Compression = gzipCompression();
