import { describe, expect, it } from 'vitest';
import { retryDelay, retrySettings } from '../../src/operators/internal/retry.js';

describe('retry policy', () => {
  it('fixed backoff always waits delayMs', () => {
    const s = retrySettings({ delayMs: 250, backoff: 'fixed' })!;
    expect([1, 2, 10].map((n) => retryDelay(s, n))).toEqual([250, 250, 250]);
  });

  it('exponential backoff doubles per delivery and is capped by maxDelayMs, even for huge counts', () => {
    const s = retrySettings({ delayMs: 100, maxDelayMs: 1_000 })!;
    expect([1, 2, 3, 4, 5, 2000].map((n) => retryDelay(s, n))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('jitter takes a random fraction off, within bounds', () => {
    const s = retrySettings({ delayMs: 1_000, backoff: 'fixed', jitter: 0.5 })!;
    expect(retryDelay(s, 1, () => 0)).toBe(1_000);
    expect(retryDelay(s, 1, () => 0.999999)).toBeCloseTo(500, 2);
    for (let i = 0; i < 100; i++) {
      const d = retryDelay(s, 1);
      expect(d).toBeGreaterThan(500);
      expect(d).toBeLessThanOrEqual(1_000);
    }
  });

  it('gives up (-1) once the failed delivery was the maxAttempts-th', () => {
    const s = retrySettings({ delayMs: 10, maxAttempts: 3 })!;
    expect([1, 2, 3, 4].map((n) => retryDelay(s, n))).toEqual([10, 20, -1, -1]);
  });

  it('defaults: 1000 ms, exponential, capped at 30 s, no jitter, never gives up', () => {
    expect(retrySettings({})).toEqual({ delayMs: 1000, exponential: true, maxDelayMs: 30_000, jitter: 0, maxAttempts: Infinity });
    expect(retrySettings(undefined)).toBeUndefined();
  });
});
