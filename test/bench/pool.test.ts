import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pooledMedian } from '../../bench/lib/pool.js';

function plainMedian(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

describe('bench pooledMedian (each process weighs the same)', () => {
  it('is the plain median for one process, odd and even counts', () => {
    expect(pooledMedian([[3, 1, 2]])).toBe(2);
    expect(pooledMedian([[4, 1, 3, 2]])).toBe(2.5);
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e9, noNaN: true }), { minLength: 1, maxLength: 40 }), (xs) => {
        expect(pooledMedian([xs])).toBe(plainMedian(xs));
      }),
    );
  });

  it('is the plain pooled median when every process ran as many repetitions', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }).chain((k) => fc.array(fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: k, maxLength: k }), { minLength: 1, maxLength: 6 })),
        (groups) => {
          expect(pooledMedian(groups)).toBe(plainMedian(groups.flat()));
        },
      ),
    );
  });

  it('does not let a process outvote the others by running more repetitions', () => {
    // two slow processes of 5 repetitions, one quiet one of 20: pooled per repetition the quiet
    // one decides (20 of 30), weighed per process the slow ones do (2 of 3)
    const slow = [40, 41, 42, 43, 44];
    const quiet = Array.from({ length: 20 }, (_, i) => 70 + i / 10);
    expect(plainMedian([...slow, ...slow, ...quiet])).toBeGreaterThan(70);
    const m = pooledMedian([slow, slow, quiet]);
    expect(m).toBeGreaterThanOrEqual(40);
    expect(m).toBeLessThanOrEqual(44);
  });

  it('lies within the range of all repetitions', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 7 }), (groups) => {
        const all = groups.flat();
        const m = pooledMedian(groups);
        expect(m).toBeGreaterThanOrEqual(Math.min(...all));
        expect(m).toBeLessThanOrEqual(Math.max(...all));
      }),
    );
  });

  it('is NaN with nothing to pool', () => {
    expect(pooledMedian([])).toBeNaN();
    expect(pooledMedian([[], []])).toBeNaN();
  });
});
