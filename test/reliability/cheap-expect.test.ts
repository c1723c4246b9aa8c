import { describe, expect as vitestExpect, it } from 'vitest';
import { expect } from './cheap-expect.js';

/** The error a call throws (undefined when it passes). */
function thrown(f: () => void): Error | undefined {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  return undefined;
}

describe('cheap expect: the harness matchers fail as vitest would', () => {
  it('a failing check throws vitest’s assertion error, message and diff included', () => {
    const e = thrown(() => expect({ head: 1, tail: 2 }, 'ring window').toEqual({ head: 1, tail: 3 }));
    vitestExpect(e?.name).toBe('AssertionError');
    vitestExpect(e?.message).toContain('ring window');
    for (const f of [
      () => expect(1).toBe(2),
      () => expect(0).toBe(-0),
      () => expect(undefined).toBeDefined(),
      () => expect(1).toBeUndefined(),
      () => expect(0).toBeTruthy(),
      () => expect(3).toBeGreaterThan(3),
      () => expect(2).toBeGreaterThanOrEqual(3),
      () => expect(4).toBeLessThanOrEqual(3),
      () => expect({}).toBeInstanceOf(Error),
      () => expect(1).not.toBe(1),
      () => expect([1, 2]).toEqual([1, 2, 3]),
      () => expect({ a: [1, { b: 2 }] }).toEqual({ a: [1, { b: 3 }] }),
      () => expect({ a: 1 }).toEqual({ a: 1, b: 2 }),
    ]) {
      vitestExpect(thrown(f)?.name, String(f)).toBe('AssertionError');
    }
  });

  it('what it cannot compare cheaply, vitest decides', () => {
    // toEqual ignores an undefined property, and compares class instances and NaN by value
    vitestExpect(thrown(() => expect({ a: 1, b: undefined }).toEqual({ a: 1 }))).toBeUndefined();
    vitestExpect(thrown(() => expect(new Map([[1, 2]])).toEqual(new Map([[1, 2]])))).toBeUndefined();
    vitestExpect(thrown(() => expect(new Map([[1, 2]])).toEqual(new Map([[1, 3]])))?.name).toBe('AssertionError');
    vitestExpect(thrown(() => expect([NaN, { x: 'y' }]).toEqual([NaN, { x: 'y' }]))).toBeUndefined();
  });
});
