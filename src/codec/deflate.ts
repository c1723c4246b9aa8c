import { zlibSync } from 'fflate';
import { CodecError } from '../errors.js';
import { adler32, readU32BE } from './internal/checksum.js';
import { boundOf, compressionOptions } from './internal/compression-options.js';
import { inflateBounded, tooLarge } from './internal/inflate.js';
import { toCodecError } from './internal/validate.js';
import type { CompressionOptions } from './gzip.js';
import type { Compression } from './types.js';

/** The frame id of deflate compression. */
export const DEFLATE_COMPRESSION_ID = 2;

/**
 * Creates a deflate {@link Compression} (id 2): DEFLATE in the zlib wrapper (RFC 1950),
 * as HTTP's `Content-Encoding: deflate`, using fflate's functions. Decompression checks
 * the Adler-32 in the zlib trailer; bad data throws `CodecError` with reason `'corrupt'`.
 * It inflates step by step and stops past `maxBytes` with reason `'too-large'`, so a small
 * frame cannot make it allocate gigabytes.
 *
 * @param options - `level` (0 to 9, default 6), `minBytes` (default 0), `maxBytes`
 * (default 64 MiB).
 * @throws ConfigError when an option is out of range.
 * @example
 * ```ts
 * const fast = deflateCompression({ level: 1, minBytes: 256 });
 * const frame = encodeFrame(event, { codec: msgpack, compression: fast });
 * ```
 */
export function deflateCompression(options?: CompressionOptions): Compression {
  const { level, minBytes, maxBytes } = compressionOptions(options);
  const fflateOptions = { level };
  return {
    name: 'deflate',
    id: DEFLATE_COMPRESSION_ID,
    minBytes,
    maxBytes,
    compress(input: Uint8Array): Uint8Array {
      try {
        return zlibSync(input, fflateOptions);
      } catch (error) {
        throw toCodecError('encode-error', 'deflate: cannot compress', error);
      }
    },
    decompress(input: Uint8Array, callerMax?: number): Uint8Array {
      const bound = boundOf(maxBytes, callerMax);
      // CMF: method 8, window <= 32K; FLG: check bits, no preset dictionary.
      if (
        input.length < 6 ||
        (input[0] & 0x0f) !== 8 ||
        input[0] >> 4 > 7 ||
        ((input[0] << 8) | input[1]) % 31 !== 0 ||
        input[1] & 0x20
      ) {
        throw new CodecError('corrupt', 'deflate: invalid zlib header');
      }
      const end = input.length - 4;
      const output = inflateBounded('deflate', input.subarray(2, end), bound, () => tooLarge('deflate', bound));
      if (adler32(output) !== readU32BE(input, end)) {
        throw new CodecError('corrupt', 'deflate: checksum mismatch');
      }
      return output;
    },
  };
}

/**
 * deflate (zlib) compression (id 2) at level 6, compressing every payload.
 *
 * @example
 * ```ts
 * const frame = encodeFrame([1, 2, 3], { codec: msgpack, compression: deflate });
 * decodeFrame(frame); // [1, 2, 3]
 * ```
 */
export const deflate: Compression = deflateCompression();
