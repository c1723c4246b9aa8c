/**
 * `expect` for assertions made after every step of a random program: the check runs first with
 * plain comparisons, and only a failing one goes through vitest's `expect`, which builds the
 * message and the diff. Vitest's assertion machinery costs tens of microseconds a call; the model
 * suite makes dozens a step. A comparison here is never weaker than vitest's: `toEqual` passes
 * here only for plain data equal key by key under `Object.is`, and anything else goes to vitest.
 */
import { expect as vitestExpect } from 'vitest';

/** Same plain data: arrays and plain objects with the same keys, primitives `Object.is`-equal. */
function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!same(a[i], b[i])) return false;
    return true;
  }
  const pa = Object.getPrototypeOf(a);
  if ((pa !== Object.prototype && pa !== null) || Object.getPrototypeOf(b) !== pa) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!Object.hasOwn(b, k) || !same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

/** The matchers the reliability harness uses, each deferring to vitest when its check fails. */
export function expect<T>(actual: T, message?: string) {
  const slow = () => vitestExpect(actual, message);
  return {
    toBe(expected: unknown): void {
      if (!Object.is(actual, expected)) slow().toBe(expected);
    },
    toEqual(expected: unknown): void {
      if (!same(actual, expected)) slow().toEqual(expected);
    },
    toBeTruthy(): void {
      if (!actual) slow().toBeTruthy();
    },
    toBeDefined(): void {
      if (actual === undefined) slow().toBeDefined();
    },
    toBeUndefined(): void {
      if (actual !== undefined) slow().toBeUndefined();
    },
    toBeGreaterThan(n: number): void {
      if (!(typeof actual === 'number' && actual > n)) slow().toBeGreaterThan(n);
    },
    toBeGreaterThanOrEqual(n: number): void {
      if (!(typeof actual === 'number' && actual >= n)) slow().toBeGreaterThanOrEqual(n);
    },
    toBeLessThanOrEqual(n: number): void {
      if (!(typeof actual === 'number' && actual <= n)) slow().toBeLessThanOrEqual(n);
    },
    toBeInstanceOf(c: abstract new (...args: never[]) => unknown): void {
      if (!(actual instanceof c)) slow().toBeInstanceOf(c);
    },
    not: {
      toBe(expected: unknown): void {
        if (Object.is(actual, expected)) slow().not.toBe(expected);
      },
    },
  };
}
