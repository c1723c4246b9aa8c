import { defineConfig } from 'vitest/config';

/**
 * Files that run only in `npm run test:deep` (vitest.deep.config.ts): end-to-end runs of tools
 * that take tens of seconds.
 */
export const deepOnly = ['test/examples/bench-ir.test.ts'];

/**
 * Files whose run counts grow with `RINGBUS_DEEP=1` (test/reliability/config.ts, and the node
 * storage tests' own counts): `npm test` runs them at their default counts, `npm run test:deep`
 * again at their deep ones.
 */
export const deepScaled = ['test/reliability/**/*.test.ts', 'test/node/crash.test.ts', 'test/node/damage.test.ts'];

export const shared = {
  resolve: { conditions: ['ringbus-source'] },
  timeouts: { testTimeout: 20_000, hookTimeout: 20_000 },
};

/** `npm test`: every test file but the deep-only ones. */
export default defineConfig({
  resolve: shared.resolve,
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...deepOnly],
    ...shared.timeouts,
  },
});
