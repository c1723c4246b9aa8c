/** Validation of `fileStorage()` options: synchronous, before anything is created. */
import type { Codec } from '../../codec/types.js';
import { msgpack } from '../../codec/msgpack.js';
import { checkCodec } from '../../codec/registry.js';
import { ConfigError } from '../../errors.js';
import * as v from '../../internal/validate.js';
import type { FileStorageOptions, RecoveryReport } from '../types.js';

export type FsyncMode = 'always' | 'interval' | 'never';

/** Validated options with defaults applied. */
export interface FileStorageSettings {
  readonly dir: string;
  readonly fsync: FsyncMode;
  readonly intervalMs: number;
  readonly segmentBytes: number;
  readonly maxBytes: number;
  readonly codec: Codec<unknown>;
  readonly onRecovery: ((report: RecoveryReport) => void) | undefined;
}

const KEYS = ['fsync', 'intervalMs', 'segmentBytes', 'maxBytes', 'codec', 'onRecovery'];
const MIN_SEGMENT = 4096;
const MAX_SEGMENT = 2 ** 31;

export function fileStorageSettings(dir: unknown, options: FileStorageOptions | undefined): FileStorageSettings {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new ConfigError('dir', `\`dir\` must be a non-empty directory path, got ${v.describe(dir)}`);
  }
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw new ConfigError('options', `\`options\` must be an object, got ${v.describe(options)}`);
  }
  const o = options ?? {};
  for (const k of Object.keys(o)) {
    if (!KEYS.includes(k)) throw new ConfigError(k, `\`${k}\` is not a fileStorage option (known: ${KEYS.map((x) => `\`${x}\``).join(', ')})`);
  }
  const { fsync = 'always', intervalMs = 100, segmentBytes = 64 * 1024 * 1024, maxBytes = Infinity, codec = msgpack as Codec<unknown>, onRecovery } = o;
  v.oneOf('fsync', fsync, ['always', 'interval', 'never'] as const);
  if (typeof intervalMs !== 'number' || !Number.isInteger(intervalMs) || intervalMs < 1 || intervalMs > 2 ** 31 - 1) {
    throw new ConfigError('intervalMs', `\`intervalMs\` must be an integer number of milliseconds from 1 to 2^31 - 1, got ${v.describe(intervalMs)}`);
  }
  if (typeof segmentBytes !== 'number' || !Number.isInteger(segmentBytes) || segmentBytes < MIN_SEGMENT || segmentBytes > MAX_SEGMENT) {
    throw new ConfigError('segmentBytes', `\`segmentBytes\` must be an integer from ${MIN_SEGMENT} to 2^31, got ${v.describe(segmentBytes)}`);
  }
  if (maxBytes !== Infinity && (typeof maxBytes !== 'number' || !Number.isInteger(maxBytes) || maxBytes < MIN_SEGMENT || maxBytes > Number.MAX_SAFE_INTEGER)) {
    throw new ConfigError('maxBytes', `\`maxBytes\` must be an integer from ${MIN_SEGMENT} to 2^53 - 1 or \`Infinity\`, got ${v.describe(maxBytes)}`);
  }
  checkCodec('codec', codec);
  if (onRecovery !== undefined && typeof onRecovery !== 'function') {
    throw new ConfigError('onRecovery', `\`onRecovery\` must be a function, got ${v.describe(onRecovery)}`);
  }
  return { dir, fsync, intervalMs, segmentBytes, maxBytes, codec: codec as Codec<unknown>, onRecovery };
}
