import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['ringbus-source'] },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
