import { CodecError, ConfigError, isRingbusError } from '../../errors.js';

/** Renders a rejected value for a `ConfigError` message: `` `12` (number) ``. */
export function describe(value: unknown): string {
  let shown: string;
  switch (typeof value) {
    case 'string':
      shown = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
      break;
    case 'bigint':
      shown = `${value}n`;
      break;
    case 'function':
      shown = `[function ${value.name || 'anonymous'}]`;
      break;
    case 'object':
      shown = value === null ? 'null' : Object.prototype.toString.call(value);
      break;
    default:
      shown = String(value);
  }
  return `\`${shown}\` (${value === null ? 'null' : typeof value})`;
}

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

/** The message of an unknown thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `error` itself when it is already a `CodecError`, else a `CodecError` wrapping it. */
export function toCodecError(reason: string, what: string, error: unknown): CodecError {
  if (isRingbusError(error) && error.code === 'ERR_CODEC') return error as CodecError;
  return new CodecError(reason, `${what}: ${messageOf(error)}`, { cause: error });
}
