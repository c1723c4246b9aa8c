import { CodecError } from '../errors.js';
import { describe, toCodecError } from './internal/validate.js';
import { isWellFormed, utf8Decoder, utf8Encoder } from './internal/utf8.js';
import type { Codec } from './types.js';

/** The frame id of the text codec. */
export const TEXT_CODEC_ID = 3;

/**
 * UTF-8 text (id 3, `text/plain; charset=utf-8`).
 *
 * Encoding a non-string, or a string with a lone surrogate (which UTF-8 cannot carry),
 * fails with `CodecError` reason `'encode-error'`; decoding invalid UTF-8 fails with
 * `'decode-error'` (the decoder is fatal, it never substitutes U+FFFD). A leading BOM is
 * dropped when decoding.
 *
 * @example
 * ```ts
 * text.decode(text.encode('héllo')); // 'héllo'
 * ```
 */
export const text: Codec<string> = {
  name: 'text',
  contentType: 'text/plain; charset=utf-8',
  id: TEXT_CODEC_ID,
  encode(value: string): Uint8Array {
    if (typeof value !== 'string') {
      throw new CodecError('encode-error', `text: expected a string, got ${describe(value)}`);
    }
    if (!isWellFormed(value)) {
      throw new CodecError('encode-error', 'text: the string has a lone surrogate, which UTF-8 cannot encode');
    }
    return utf8Encoder.encode(value);
  },
  decode(bytes: Uint8Array): string {
    try {
      return utf8Decoder.decode(bytes);
    } catch (error) {
      throw toCodecError('decode-error', 'text: invalid UTF-8', error);
    }
  },
};
