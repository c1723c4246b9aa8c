import { gzipSync } from 'fflate';
import { CodecError } from '../errors.js';
import { crc32, readU32LE } from './internal/checksum.js';
import { boundOf, compressionOptions } from './internal/compression-options.js';
import { inflateBounded, inflateExact, tooLarge } from './internal/inflate.js';
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
  /**
   * The most bytes a payload may decompress to; past it, decompression stops and throws
   * `CodecError` with reason `'too-large'` (a decompression bomb is never inflated in full).
   * A caller's smaller bound (`decodeFrame`'s `maxBytes`) wins. Default: 64 MiB (67 108 864).
   */
  maxBytes?: number;
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
 * functions (Node and browsers). Decompression checks the CRC-32 and size in the gzip
 * trailer; bad data throws `CodecError` with reason `'corrupt'`. It inflates step by step
 * and stops past `maxBytes` (or the size the trailer states, if smaller) with reason
 * `'too-large'` (or `'corrupt'`), so a small frame cannot make it allocate gigabytes.
 *
 * @param options - `level` (0 to 9, default 6), `minBytes` (default 0), `maxBytes`
 * (default 64 MiB).
 * @throws ConfigError when an option is out of range.
 * @example
 * ```ts
 * const gz = gzipCompression({ level: 9, minBytes: 512 });
 * const frame = encodeFrame(report, { codec: json, compression: gz });
 * ```
 */
export function gzipCompression(options?: CompressionOptions): Compression {
  const { level, minBytes, maxBytes } = compressionOptions(options);
  const fflateOptions = { level };
  return {
    name: 'gzip',
    id: GZIP_COMPRESSION_ID,
    minBytes,
    maxBytes,
    compress(input: Uint8Array): Uint8Array {
      try {
        return gzipSync(input, fflateOptions);
      } catch (error) {
        throw toCodecError('encode-error', 'gzip: cannot compress', error);
      }
    },
    decompress(input: Uint8Array, callerMax?: number): Uint8Array {
      const bound = boundOf(maxBytes, callerMax);
      const start = gzipBodyStart(input);
      if (start < 0) throw new CodecError('corrupt', 'gzip: invalid header');
      const end = input.length - 8;
      const size = readU32LE(input, end + 4);
      if (size > (end - start) * MAX_RATIO + 16) {
        throw new CodecError('corrupt', `gzip: the trailer claims ${size} bytes, more than the data can hold`);
      }
      // the trailer holds the size modulo 2^32: the true size is at least `size`
      if (size > bound) throw tooLarge('gzip', bound);
      // below 2^32, the true size is exactly `size`: inflating past it proves the trailer wrong
      const body = input.subarray(start, end);
      const output =
        bound < 0x1_0000_0000
          ? inflateExact('gzip', body, size, () => new CodecError('corrupt', `gzip: the data inflates to more than the ${size} bytes its trailer states`))
          : inflateBounded('gzip', body, bound, () => tooLarge('gzip', bound));
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
