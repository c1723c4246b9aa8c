import { defineConfig } from 'vitest/config';
import { deepOnly, deepScaled, shared } from './vitest.config.js';

/**
 * `npm run test:deep`: the deep-only files, and every count-scaled file at its deep counts. Deep
 * fixtures are bigger (hundreds of damaged copies to clean up, thousands of runs), so a hook or a
 * test without its own timeout gets minutes, not seconds.
 */
export default defineConfig({
  resolve: shared.resolve,
  test: {
    include: [...deepOnly, ...deepScaled],
    env: { RINGBUS_DEEP: '1' },
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
