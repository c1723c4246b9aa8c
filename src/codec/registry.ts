import { ConfigError } from '../errors.js';
import { bytes } from './bytes.js';
import { deflate } from './deflate.js';
import { gzip } from './gzip.js';
import { describe } from './internal/validate.js';
import { json } from './json.js';
import { msgpack } from './msgpack.js';
import { text } from './text.js';
import type { Codec, Compression } from './types.js';

/**
 * Codecs and compressions by frame id, as a frame reader looks them up.
 *
 * @example
 * ```ts
 * const registry = createCodecRegistry({ codecs: [jsonCodec({ reviver })] });
 * registry.codec(1)?.name; // 'json' (the one with the reviver)
 * ```
 */
export interface CodecRegistry {
  /** The codec with frame id `id`, or `undefined`. */
  codec(id: number): Codec<any> | undefined;
  /** The compression with frame id `id` (1 to 255), or `undefined`; id 0 (none) is never registered. */
  compression(id: number): Compression | undefined;
  /** Every registered codec, by ascending id. */
  readonly codecs: readonly Codec<any>[];
  /** Every registered compression, by ascending id. */
  readonly compressions: readonly Compression[];
}

/**
 * Options of {@link createCodecRegistry}.
 *
 * @example
 * ```ts
 * const options: CodecRegistryOptions = { codecs: [myCbor], compressions: [myZstd] };
 * ```
 */
export interface CodecRegistryOptions {
  /** Codecs to register; one with a built-in's id replaces that built-in. Default: none. */
  codecs?: readonly Codec<any>[];
  /** Compressions to register; one with a built-in's id replaces it. Default: none. */
  compressions?: readonly Compression[];
  /** The registry to start from. Default: {@link builtinRegistry}. */
  base?: CodecRegistry;
}

/** Throws `ConfigError` unless `codec` has the shape of a {@link Codec}. */
export function checkCodec(option: string, codec: unknown): asserts codec is Codec<unknown> {
  if (typeof codec !== 'object' || codec === null) {
    throw new ConfigError(option, `\`${option}\` must be a codec object, got ${describe(codec)}`);
  }
  const c = codec as Partial<Codec<unknown>>;
  if (typeof c.id !== 'number' || !Number.isInteger(c.id) || c.id < 0 || c.id > 255) {
    throw new ConfigError(option, `\`${option}.id\` must be an integer from 0 to 255, got ${describe(c.id)}`);
  }
  if (typeof c.name !== 'string') {
    throw new ConfigError(option, `\`${option}.name\` must be a string, got ${describe(c.name)}`);
  }
  if (typeof c.encode !== 'function' || typeof c.decode !== 'function') {
    throw new ConfigError(option, `\`${option}\` must have \`encode\` and \`decode\` functions`);
  }
}

/** Throws `ConfigError` unless `compression` has the shape of a {@link Compression}. */
export function checkCompression(option: string, compression: unknown): asserts compression is Compression {
  if (typeof compression !== 'object' || compression === null) {
    throw new ConfigError(option, `\`${option}\` must be a compression object, got ${describe(compression)}`);
  }
  const c = compression as Partial<Compression>;
  if (typeof c.id !== 'number' || !Number.isInteger(c.id) || c.id < 0 || c.id > 255) {
    throw new ConfigError(option, `\`${option}.id\` must be an integer from 0 to 255, got ${describe(c.id)}`);
  }
  if (typeof c.name !== 'string') {
    throw new ConfigError(option, `\`${option}.name\` must be a string, got ${describe(c.name)}`);
  }
  if (typeof c.minBytes !== 'number' || !(c.minBytes >= 0)) {
    throw new ConfigError(option, `\`${option}.minBytes\` must be a number from 0 up, got ${describe(c.minBytes)}`);
  }
  if (typeof c.compress !== 'function' || typeof c.decompress !== 'function') {
    throw new ConfigError(option, `\`${option}\` must have \`compress\` and \`decompress\` functions`);
  }
}

/** Throws `ConfigError` unless `registry` has the shape of a {@link CodecRegistry}. */
export function checkRegistry(option: string, registry: unknown): asserts registry is CodecRegistry {
  const r = registry as Partial<CodecRegistry> | null;
  if (
    typeof r !== 'object' ||
    r === null ||
    typeof r.codec !== 'function' ||
    typeof r.compression !== 'function' ||
    !Array.isArray(r.codecs) ||
    !Array.isArray(r.compressions)
  ) {
    throw new ConfigError(option, `\`${option}\` must be a registry from createCodecRegistry(), got ${describe(registry)}`);
  }
}

function table<E extends { readonly id: number }>(
  option: string,
  base: readonly E[],
  extra: readonly E[] | undefined,
  check: (option: string, value: unknown) => void,
): (E | undefined)[] {
  const byId: (E | undefined)[] = new Array(256).fill(undefined);
  for (const entry of base) byId[entry.id] = entry;
  if (extra === undefined) return byId;
  if (!Array.isArray(extra)) {
    throw new ConfigError(option, `\`${option}\` must be an array or undefined, got ${describe(extra)}`);
  }
  const seen = new Set<number>();
  extra.forEach((entry, i) => {
    check(`${option}[${i}]`, entry);
    if (seen.has(entry.id)) {
      throw new ConfigError(option, `\`${option}\` has two entries with id ${entry.id}`);
    }
    seen.add(entry.id);
    byId[entry.id] = entry;
  });
  return byId;
}

/**
 * Creates a {@link CodecRegistry}: the built-ins (or `base`) plus `codecs` and
 * `compressions`, which replace entries with the same id.
 *
 * @param options - see {@link CodecRegistryOptions}.
 * @throws ConfigError when an entry is malformed or two entries share an id.
 * @example
 * ```ts
 * const registry = createCodecRegistry({ codecs: [myCbor] });
 * decodeFrame(frame, { registry });
 * ```
 */
export function createCodecRegistry(options?: CodecRegistryOptions): CodecRegistry {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new ConfigError('options', `\`options\` must be an object or undefined, got ${describe(options)}`);
  }
  const { codecs, compressions, base } = options ?? {};
  if (base !== undefined) checkRegistry('base', base);
  const codecTable = table('codecs', base ? base.codecs : [bytes, json, msgpack, text], codecs, checkCodec);
  const compressionTable = table('compressions', base ? base.compressions : [gzip, deflate], compressions, checkCompression);
  compressionTable[0] = undefined;
  const listed = <E>(entries: (E | undefined)[]): readonly E[] =>
    Object.freeze(entries.filter((e): e is E => e !== undefined));
  return {
    codec: (id) => codecTable[id],
    compression: (id) => compressionTable[id],
    codecs: listed(codecTable),
    compressions: listed(compressionTable),
  };
}

/**
 * The built-in registry: codecs `bytes` (0), `json` (1), `msgpack` (2), `text` (3);
 * compressions `gzip` (1), `deflate` (2).
 *
 * @example
 * ```ts
 * builtinRegistry.codec(2) === msgpack; // true
 * ```
 */
export const builtinRegistry: CodecRegistry = createCodecRegistry();
