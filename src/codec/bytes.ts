import { CodecError } from '../errors.js';
import { describe } from './internal/validate.js';
import type { Codec } from './types.js';

/** The frame id of the bytes codec (0: raw, no codec). */
export const BYTES_CODEC_ID = 0;

/**
 * Raw bytes, unchanged (id 0, `application/octet-stream`).
 *
 * `encode` returns the given array itself and `decode` returns its input, so no bytes
 * are copied; when decoding a frame, the result is a view into the frame's buffer. Copy
 * it (`.slice()`) if you keep it and reuse the frame's buffer. Encoding anything but a
 * `Uint8Array` fails with `CodecError` reason `'encode-error'`.
 *
 * @example
 * ```ts
 * const frame = encodeFrame(new Uint8Array([1, 2, 3]), { codec: bytes });
 * decodeFrame(frame); // Uint8Array [1, 2, 3]
 * ```
 */
export const bytes: Codec<Uint8Array> = {
  name: 'bytes',
  contentType: 'application/octet-stream',
  id: BYTES_CODEC_ID,
  encode(value: Uint8Array): Uint8Array {
    if (!(value instanceof Uint8Array)) {
      throw new CodecError('encode-error', `bytes: expected a Uint8Array, got ${describe(value)}`);
    }
    return value;
  },
  decode(input: Uint8Array): Uint8Array {
    return input;
  },
};
