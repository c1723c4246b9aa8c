import type { RetryPolicy } from '../types.js';
import * as v from './validate.js';

/** A validated {@link RetryPolicy}. */
export interface RetrySettings {
  readonly delayMs: number;
  readonly exponential: boolean;
  readonly maxDelayMs: number;
  readonly jitter: number;
  readonly maxAttempts: number;
}

const KEYS = ['delayMs', 'backoff', 'maxDelayMs', 'jitter', 'maxAttempts'] as const;

/** Validates a retry policy (synchronously, with `ConfigError`s naming the option). */
export function retrySettings(policy: RetryPolicy | undefined): RetrySettings | undefined {
  if (policy === undefined) return undefined;
  const p = v.options<RetryPolicy>('retry', policy, KEYS);
  const delayMs = p.delayMs === undefined ? 1000 : v.duration('retry.delayMs', p.delayMs, false, false);
  const backoff = p.backoff === undefined ? 'exponential' : v.oneOf('retry.backoff', p.backoff, ['fixed', 'exponential'] as const);
  const maxDelayMs = p.maxDelayMs === undefined ? Math.max(30_000, delayMs) : v.duration('retry.maxDelayMs', p.maxDelayMs, false, false);
  const jitter = p.jitter === undefined ? 0 : v.between('retry.jitter', p.jitter, 0, 1);
  const maxAttempts = p.maxAttempts === undefined ? Infinity : v.integer('retry.maxAttempts', p.maxAttempts, 1, 2 ** 30, true);
  return { delayMs, exponential: backoff === 'exponential', maxDelayMs, jitter, maxAttempts };
}

/**
 * The nack delay after the `deliveryCount`-th delivery failed, or `-1` when the policy gives up.
 * `random` is `Math.random` outside tests.
 */
export function retryDelay(s: RetrySettings, deliveryCount: number, random: () => number = Math.random): number {
  if (deliveryCount >= s.maxAttempts) return -1;
  let delay = s.exponential ? s.delayMs * 2 ** Math.max(0, deliveryCount - 1) : s.delayMs;
  if (!(delay <= s.maxDelayMs)) delay = s.maxDelayMs; // also catches Infinity and NaN
  if (s.jitter > 0) delay -= delay * s.jitter * random();
  return delay;
}
