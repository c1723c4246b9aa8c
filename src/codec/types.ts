/**
 * The two contracts of `ringbus/codec`: a {@link Codec} turns values into bytes and back,
 * a {@link Compression} shrinks bytes and restores them.
 *
 * @module
 */

/**
 * Turns values of type `T` into bytes and back.
 *
 * `id` is the byte written into a frame header, so a reader can pick the codec without
 * being told. Ids 0 to 15 are reserved for ringbus's built-ins (0 is `bytes`, the raw
 * "no codec" codec); give custom codecs ids from 16 to 255, or reuse a built-in id to
 * replace that built-in when decoding (e.g. a `jsonCodec({ reviver })` with id 1).
 *
 * `encode` and `decode` throw `CodecError` (from `ringbus`) (`'encode-error'` / `'decode-error'`)
 * when they fail; anything else they throw is wrapped into one by the frame functions.
 *
 * @example
 * ```ts
 * const upper: Codec<string> = {
 *   name: 'upper', contentType: 'text/plain; charset=utf-8', id: 16,
 *   encode: (s) => new TextEncoder().encode(s.toUpperCase()),
 *   decode: (b) => new TextDecoder().decode(b),
 * };
 * ```
 */
export interface Codec<T> {
  /** A short lowercase name, e.g. `'json'`. */
  readonly name: string;
  /** The MIME type of the encoded bytes, e.g. `'application/json'`. */
  readonly contentType: string;
  /** The codec's id in a frame header: an integer from 0 to 255 (0 to 15 are reserved for built-ins). */
  readonly id: number;
  /** Encodes `value`; throws `CodecError` with reason `'encode-error'` when it cannot. */
  encode(value: T): Uint8Array;
  /** Decodes `bytes`; throws `CodecError` with reason `'decode-error'` when they are not valid. */
  decode(bytes: Uint8Array): T;
}

/**
 * Shrinks bytes and restores them. Payloads shorter than `minBytes` are not compressed
 * (the frame then says compression none).
 *
 * @example
 * ```ts
 * const small = gzipCompression({ level: 9, minBytes: 1024 });
 * const frame = encodeFrame(bigObject, { codec: json, compression: small });
 * ```
 */
export interface Compression {
  /** A short lowercase name, e.g. `'gzip'`. */
  readonly name: string;
  /** The compression's id in a frame header: an integer from 0 to 255 (0 means none; 0 to 15 are reserved). */
  readonly id: number;
  /** Payloads shorter than this many bytes are stored uncompressed by the frame functions. */
  readonly minBytes: number;
  /** Compresses `bytes`; throws `CodecError` with reason `'encode-error'` when it cannot. */
  compress(bytes: Uint8Array): Uint8Array;
  /** Restores `bytes`; throws `CodecError` with reason `'corrupt'` when they are not valid. */
  decompress(bytes: Uint8Array): Uint8Array;
}

/** The key of the phantom member that marks a built-in codec's value space (never set at run time). */
declare const codecValues: unique symbol;

/**
 * A built-in codec that gives back only some values as they went in: `json` gives back
 * JSON data (a `Date` comes back as a string, a `Map` as `{}`), `msgpack` gives back JSON data,
 * `Date`s and `Uint8Array`s. A topic or publish option typed {@link CodecFor} refuses it, at
 * compile time, for a value type it would not give back.
 */
export interface BuiltinCodec<Values extends 'json' | 'msgpack'> extends Codec<any> {
  /** Type-level only: which values this codec gives back unchanged. */
  readonly [codecValues]?: Values;
}

/**
 * A codec for values of type `T`: any `Codec<T>`, and the built-in `json` and `msgpack` only
 * when `T` survives them ({@link RoundTrips}). `bus.topic<{ at: Date }>('t', { codec: json })`
 * is a compile error; `msgpack` keeps the `Date`; `jsonCodec<{ at: Date }>({ reviver })` is
 * your promise that the reviver restores it.
 */
export type CodecFor<T> = Codec<T> & {
  readonly [codecValues]?: (RoundTrips<T, 'json'> extends true ? 'json' : never) | (RoundTrips<T, 'msgpack'> extends true ? 'msgpack' : never);
};

/**
 * `true` when a value of type `T` encoded with the built-in `json` (or `msgpack`) codec decodes
 * to a `T`; `false` (or `boolean`, for a union with a part that does not) when it does not:
 * `bigint`, symbols, functions and methods, `Map`, `Set`, `RegExp`, typed arrays and
 * `ArrayBuffer`, and for `json` also `Date` and `Uint8Array`, which `msgpack` keeps. `any` and
 * `unknown` pass: they make no claim. Values nested deeper than 8 levels are taken on trust
 * (`Depth` counts the levels above).
 */
export type RoundTrips<T, Values extends 'json' | 'msgpack', Depth extends 0[] = []> = 0 extends 1 & T
  ? true
  : unknown extends T
    ? true
    : Depth['length'] extends 8
      ? true
      : T extends string | number | boolean | null | undefined
        ? true
        : T extends (Values extends 'msgpack' ? Date | Uint8Array : never)
          ? true
          : T extends bigint | symbol | Function | Date | RegExp | Map<any, any> | Set<any> | WeakMap<any, any> | WeakSet<any> | ArrayBuffer | ArrayBufferView | PromiseLike<any>
            ? false
            : T extends readonly (infer E)[]
              ? RoundTrips<E, Values, [...Depth, 0]>
              : T extends object
                ? [{ [K in keyof T]-?: K extends symbol ? false : RoundTrips<T[K], Values, [...Depth, 0]> }[keyof T]] extends [true]
                  ? true
                  : false
                : false;
