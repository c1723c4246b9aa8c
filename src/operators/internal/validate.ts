import { ConfigError } from '../../errors.js';
import { describe } from '../../internal/validate.js';

export { describe, messageOf, options } from '../../internal/validate.js';

function fail(option: string, range: string, value: unknown): never {
  throw new ConfigError(option, `\`${option}\` must be ${range}, got ${describe(value)}`);
}

/** An integer from `min` to `max`, or `Infinity` when `allowInfinity`. */
export function integer(option: string, value: unknown, min: number, max: number, allowInfinity = false): number {
  if (allowInfinity && value === Infinity) return Infinity;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const top = max === 2 ** 30 ? '2^30' : String(max);
    fail(option, `an integer from ${min} to ${top}${allowInfinity ? ' or `Infinity`' : ''}`, value);
  }
  return value;
}

/** Milliseconds: a number ≥ 0 (> 0 when `positive`), `Infinity` only when `allowInfinity`. */
export function duration(option: string, value: unknown, positive: boolean, allowInfinity: boolean): number {
  const ok =
    typeof value === 'number' && !Number.isNaN(value) && (positive ? value > 0 : value >= 0) && (allowInfinity || value !== Infinity);
  if (!ok) fail(option, `a number of milliseconds ${positive ? '> 0' : '≥ 0'}${allowInfinity ? ' or `Infinity`' : ''}`, value);
  return value as number;
}

/** A finite number from `min` to `max`, inclusive. */
export function between(option: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) fail(option, `a number from ${min} to ${max}`, value);
  return value;
}

/** One of a fixed set of strings. */
export function oneOf<S extends string>(option: string, value: unknown, allowed: readonly S[]): S {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail(option, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  }
  return value as S;
}

/** A function (required). */
export function fn<F>(option: string, value: unknown): F {
  if (typeof value !== 'function') fail(option, 'a function', value);
  return value as F;
}

/** A function or undefined. */
export function optionalFn<F>(option: string, value: unknown): F | undefined {
  return value === undefined ? undefined : fn<F>(option, value);
}

/** An AbortSignal or undefined. */
export function signal(option: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || typeof (value as AbortSignal).aborted !== 'boolean' || typeof (value as AbortSignal).addEventListener !== 'function') {
    fail(option, 'an AbortSignal', value);
  }
  return value as AbortSignal;
}

/** A SchedulerLike (something with `now()` and `schedule()`), or undefined. */
export function scheduler<S>(option: string, value: unknown): S | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || typeof (value as { now?: unknown }).now !== 'function' || typeof (value as { schedule?: unknown }).schedule !== 'function') {
    fail(option, 'an RxJS SchedulerLike', value);
  }
  return value as S;
}

/** Something with the Topic methods the publishing operators use. */
export function topic<T>(option: string, value: T): T {
  const t = value as { tryPublish?: unknown; publish?: unknown; stats?: unknown } | null;
  if (typeof t !== 'object' || t === null || typeof t.tryPublish !== 'function' || typeof t.publish !== 'function' || typeof t.stats !== 'function') {
    fail(option, 'a ringbus Topic', value);
  }
  return value;
}
