import * as core from '../../internal/validate.js';
import { fail } from '../../internal/validate.js';

// the core validators, shared: the same checks and the same messages everywhere
export { describe, integer, messageOf, oneOf, options, signal } from '../../internal/validate.js';

/** Milliseconds: a number ≥ 0 (> 0 when `positive`), `Infinity` only when `allowInfinity`. */
export function duration(option: string, value: unknown, positive: boolean, allowInfinity: boolean): number {
  return core.duration(option, value, positive ? Number.MIN_VALUE : 0, allowInfinity);
}

/** A finite number from `min` to `max`, inclusive. */
export function between(option: string, value: unknown, min: number, max: number): number {
  return core.numberIn(option, value, min, max, `a number from ${min} to ${max}`);
}

/** A function (required). */
export function fn<F>(option: string, value: unknown): F {
  if (typeof value !== 'function') fail(option, 'a function', value);
  return value as F;
}

/** A function or undefined. */
export function optionalFn<F>(option: string, value: unknown): F | undefined {
  return core.fn<F>(option, value);
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
