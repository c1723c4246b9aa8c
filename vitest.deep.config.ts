import { defineConfig } from 'vitest/config';
import { deepOnly, deepScaled, shared } from './vitest.config.js';

/** `npm run test:deep`: the deep-only files, and every count-scaled file at its deep counts. */
export default defineConfig({
  resolve: shared.resolve,
  test: {
    include: [...deepOnly, ...deepScaled],
    env: { RINGBUS_DEEP: '1' },
    ...shared.timeouts,
  },
});
