import { CodecError, type CodecErrorReason, ConfigError, isRingbusError } from '../../errors.js';
import { describe, messageOf } from '../../internal/validate.js';

export { describe, messageOf };

/** Throws `ConfigError` unless `value` is an integer from `min` to `max`. */
export function checkInteger(option: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
    throw new ConfigError(option, `\`${option}\` must be an integer ${range}, got ${describe(value)}`);
  }
  return value;
}

/** Throws `ConfigError` unless `value` is an object or undefined. */
export function checkOptions(option: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    throw new ConfigError(option, `\`${option}\` must be an object or undefined, got ${describe(value)}`);
  }
}

/** Throws `ConfigError` unless `value` is a function (or undefined). */
export function checkFunction(option: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new ConfigError(option, `\`${option}\` must be a function or undefined, got ${describe(value)}`);
  }
}

/** Throws `ConfigError` unless `value` is a boolean (or undefined). */
export function checkBoolean(option: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new ConfigError(option, `\`${option}\` must be a boolean or undefined, got ${describe(value)}`);
  }
}


/** `error` itself when it is already a `CodecError`, else a `CodecError` wrapping it. */
export function toCodecError(reason: CodecErrorReason, what: string, error: unknown): CodecError {
  if (isRingbusError(error) && error.code === 'ERR_CODEC') return error as CodecError;
  return new CodecError(reason, `${what}: ${messageOf(error)}`, { cause: error });
}
