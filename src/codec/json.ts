import { CodecError } from '../errors.js';
import { checkFunction, checkOptions, toCodecError } from './internal/validate.js';
import { utf8Decoder, utf8Encoder } from './internal/utf8.js';
import type { BuiltinCodec, Codec } from './types.js';

/**
 * Options of {@link jsonCodec}.
 *
 * @example
 * ```ts
 * const options: JsonCodecOptions = { replacer: (k, v) => (k === 'password' ? undefined : v) };
 * ```
 */
export interface JsonCodecOptions {
  /** Passed to `JSON.parse` as its reviver. Default: none. */
  reviver?: (this: unknown, key: string, value: unknown) => unknown;
  /** Passed to `JSON.stringify` as its replacer. Default: none. */
  replacer?: (this: unknown, key: string, value: unknown) => unknown;
}

/** The frame id of JSON codecs. */
export const JSON_CODEC_ID = 1;

/**
 * Creates a JSON codec (UTF-8 JSON text, id 1) with an optional reviver and replacer.
 *
 * Values JSON cannot represent (`undefined` at the top, a `bigint`, a cycle) fail with
 * `CodecError` reason `'encode-error'`; invalid UTF-8 or JSON fail with `'decode-error'`.
 *
 * @param options - `reviver` and `replacer`, as in `JSON.parse` / `JSON.stringify`.
 * @example
 * ```ts
 * const dates = jsonCodec<{ at: Date }>({
 *   reviver: (key, value) => (key === 'at' ? new Date(value as string) : value),
 * });
 * dates.decode(dates.encode({ at: new Date(0) })).at.getTime(); // 0
 * ```
 */
export function jsonCodec<T = any>(options?: JsonCodecOptions): Codec<T> {
  checkOptions('options', options);
  const { reviver, replacer } = options ?? {};
  checkFunction('reviver', reviver);
  checkFunction('replacer', replacer);
  return {
    name: 'json',
    contentType: 'application/json',
    id: JSON_CODEC_ID,
    encode(value: T): Uint8Array {
      let text: string | undefined;
      try {
        text = JSON.stringify(value, replacer);
      } catch (error) {
        throw toCodecError('encode-error', 'json: cannot encode the value', error);
      }
      if (text === undefined) {
        throw new CodecError('encode-error', `json: cannot encode a value of type \`${typeof value}\``);
      }
      return utf8Encoder.encode(text);
    },
    decode(bytes: Uint8Array): T {
      try {
        return JSON.parse(utf8Decoder.decode(bytes), reviver) as T;
      } catch (error) {
        throw toCodecError('decode-error', 'json: invalid input', error);
      }
    },
  };
}

/**
 * The default JSON codec: UTF-8 JSON text, id 1, `application/json`.
 *
 * Typed as a {@link BuiltinCodec}: a topic whose values JSON does not give back (a `Date`, a
 * `Map`, a `bigint`…) refuses it at compile time. Use `msgpack` (which keeps `Date`), or a
 * `jsonCodec<T>({ reviver })` that restores them.
 *
 * @example
 * ```ts
 * const bytes = json.encode({ hello: 'world' });
 * json.decode(bytes); // { hello: 'world' }
 * ```
 */
export const json: BuiltinCodec<'json'> = jsonCodec();
