import { Decoder, Encoder, ExtensionCodec } from '@msgpack/msgpack';
import { checkBoolean, checkInteger, checkOptions, toCodecError } from './internal/validate.js';
import { ENCODE_SHARED } from './internal/shared.js';
import type { BuiltinCodec, Codec } from './types.js';

/** The frame id of MessagePack codecs. */
export const MSGPACK_CODEC_ID = 2;

/**
 * An extension codec for {@link MsgpackCodecOptions}: pass an `ExtensionCodec` from
 * `@msgpack/msgpack`. Declared here, not imported, so that a program importing ringbus does not
 * compile `@msgpack/msgpack`'s own type files, which need the DOM lib.
 *
 * @example
 * ```ts
 * import { ExtensionCodec } from '@msgpack/msgpack';
 * const extensionCodec: MsgpackExtensionCodec = new ExtensionCodec();
 * ```
 */
export interface MsgpackExtensionCodec {
  tryToEncode(object: unknown, context: undefined): { readonly type: number; readonly data: Uint8Array | ((pos: number) => Uint8Array) } | null;
  decode(data: Uint8Array, extType: number, context: undefined): unknown;
}

/**
 * Options of {@link msgpackCodec}; each is passed to `@msgpack/msgpack`'s Encoder or Decoder.
 *
 * @example
 * ```ts
 * const options: MsgpackCodecOptions = { useBigInt64: true, sortKeys: true, maxStrLength: 1 << 20 };
 * ```
 */
export interface MsgpackCodecOptions {
  /** Extension types to encode and decode. Default: the built-in one (timestamp ⇄ `Date`). */
  extensionCodec?: MsgpackExtensionCodec;
  /** Encode `bigint` as int64/uint64 and decode every int64/uint64 as `bigint`. Default: `false`. */
  useBigInt64?: boolean;
  /** Sort object keys when encoding, so equal objects encode to equal bytes. Default: `false`. */
  sortKeys?: boolean;
  /** Leave out object properties whose value is `undefined`, as JSON does. Default: `false`. */
  ignoreUndefined?: boolean;
  /** Encode non-integer numbers as float32 (loses precision). Default: `false`. */
  forceFloat32?: boolean;
  /** The deepest nesting of arrays and objects accepted when encoding. Default: 100. */
  maxDepth?: number;
  /** The longest string, in UTF-8 bytes, accepted when decoding. Default: 2^32 - 1. */
  maxStrLength?: number;
  /** The longest binary, in bytes, accepted when decoding. Default: 2^32 - 1. */
  maxBinLength?: number;
  /** The longest array accepted when decoding. Default: 2^32 - 1. */
  maxArrayLength?: number;
  /** The largest map accepted when decoding. Default: 2^32 - 1. */
  maxMapLength?: number;
  /** The longest extension payload accepted when decoding. Default: 2^32 - 1. */
  maxExtLength?: number;
}

const UINT32_MAX = 0xffffffff;

/**
 * The decoder refuses a map key `__proto__` (a guard against prototype pollution), so the encoder
 * refuses it too: a codec encodes only what it can decode, and a value it cannot carry is refused
 * at publish rather than delivered as a poison frame. The check rides on the extension hook, which
 * the encoder calls once for every object it meets.
 */
function refusingProtoKey(inner: MsgpackExtensionCodec, ignoreUndefined: boolean): MsgpackExtensionCodec {
  return {
    tryToEncode(object, context) {
      if (Object.hasOwn(object as object, '__proto__') && !(ignoreUndefined && (object as { ['__proto__']: unknown })['__proto__'] === undefined)) {
        throw new TypeError('the map key __proto__ cannot be decoded by msgpack');
      }
      return inner.tryToEncode(object, context);
    },
    decode: (data, extType, context) => inner.decode(data, extType, context),
  };
}

/**
 * Creates a MessagePack codec (id 2, `application/msgpack`) over one reused
 * `@msgpack/msgpack` Encoder and Decoder.
 *
 * `Date` values go through MessagePack's timestamp extension (type -1) and come back as
 * `Date`. `bigint` needs `useBigInt64: true`; then every 64-bit integer decodes as a
 * `bigint`, including numbers above 2^32 that were encoded as plain numbers. Typed
 * arrays encode as binary and decode as `Uint8Array` views into the input bytes. Maps
 * decode to plain objects; a JS `Map` or `Set` is not supported (it encodes as `{}`). An object
 * with an own `__proto__` key is refused when encoding, as the decoder refuses that key.
 * Failures throw `CodecError` with reason `'encode-error'` or `'decode-error'`.
 *
 * @param options - Encoder/decoder options, see {@link MsgpackCodecOptions}.
 * @example
 * ```ts
 * const big = msgpackCodec({ useBigInt64: true });
 * big.decode(big.encode({ id: 2n ** 63n - 1n })); // { id: 9223372036854775807n }
 * ```
 */
export function msgpackCodec<T = any>(options?: MsgpackCodecOptions): Codec<T> {
  checkOptions('options', options);
  const {
    extensionCodec,
    useBigInt64 = false,
    sortKeys = false,
    ignoreUndefined = false,
    forceFloat32 = false,
    maxDepth = 100,
    maxStrLength = UINT32_MAX,
    maxBinLength = UINT32_MAX,
    maxArrayLength = UINT32_MAX,
    maxMapLength = UINT32_MAX,
    maxExtLength = UINT32_MAX,
  } = options ?? {};
  checkBoolean('useBigInt64', useBigInt64);
  checkBoolean('sortKeys', sortKeys);
  checkBoolean('ignoreUndefined', ignoreUndefined);
  checkBoolean('forceFloat32', forceFloat32);
  checkInteger('maxDepth', maxDepth, 1, 10_000);
  checkInteger('maxStrLength', maxStrLength, 0, UINT32_MAX);
  checkInteger('maxBinLength', maxBinLength, 0, UINT32_MAX);
  checkInteger('maxArrayLength', maxArrayLength, 0, UINT32_MAX);
  checkInteger('maxMapLength', maxMapLength, 0, UINT32_MAX);
  checkInteger('maxExtLength', maxExtLength, 0, UINT32_MAX);
  const shared = extensionCodec === undefined ? {} : { extensionCodec };
  const encoder = new Encoder({ ...shared, extensionCodec: refusingProtoKey(extensionCodec ?? ExtensionCodec.defaultCodec, ignoreUndefined), useBigInt64, sortKeys, ignoreUndefined, forceFloat32, maxDepth });
  const decoder = new Decoder({
    ...shared,
    useBigInt64,
    maxStrLength,
    maxBinLength,
    maxArrayLength,
    maxMapLength,
    maxExtLength,
  });

  const encodeShared = (value: unknown): Uint8Array => {
    try {
      return encoder.encodeSharedRef(value);
    } catch (error) {
      throw toCodecError('encode-error', 'msgpack: cannot encode the value', error);
    }
  };

  return {
    name: 'msgpack',
    contentType: 'application/msgpack',
    id: MSGPACK_CODEC_ID,
    encode(value: T): Uint8Array {
      try {
        return encoder.encode(value);
      } catch (error) {
        throw toCodecError('encode-error', 'msgpack: cannot encode the value', error);
      }
    },
    decode(input: Uint8Array): T {
      try {
        return decoder.decode(input) as T;
      } catch (error) {
        throw toCodecError('decode-error', 'msgpack: invalid input', error);
      }
    },
    [ENCODE_SHARED]: encodeShared,
  } as Codec<T>;
}

/**
 * The default MessagePack codec (id 2, `application/msgpack`); `Date` ⇄ timestamp
 * extension, no `bigint` (use `msgpackCodec({ useBigInt64: true })`).
 * Typed as a {@link BuiltinCodec}: a topic whose values it does not give back (a `Map`, a `Set`, a
 * `bigint`…) refuses it at compile time.
 *
 * @example
 * ```ts
 * const bytes = msgpack.encode({ at: new Date(0), blob: new Uint8Array([1, 2]) });
 * msgpack.decode(bytes); // { at: Date(0), blob: Uint8Array [1, 2] }
 * ```
 */
export const msgpack: BuiltinCodec<'msgpack'> = msgpackCodec();
