import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const testDir = fileURLToPath(new URL('./test/', import.meta.url));

/**
 * Files that run only in `npm run test:deep` (vitest.deep.config.ts): end-to-end runs of tools
 * that take tens of seconds.
 */
export const deepOnly = ['test/examples/bench-ir.test.ts'];

/**
 * Files that `npm run test:deep` runs again, with `RINGBUS_DEEP=1`: the reliability suite, and
 * every test file whose run counts grow with it — it takes them from test/reliability/config.ts
 * (or reads `RINGBUS_DEEP` itself). `npm test` runs them at their default counts.
 */
export const deepScaled = [
  'test/reliability/**/*.test.ts',
  ...readdirSync(testDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `test/${f.split('\\').join('/')}`)
    .filter((f) => /reliability\/config\.js'|RINGBUS_DEEP/.test(readFileSync(new URL(f, new URL('./', import.meta.url)), 'utf8'))),
];

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
    // Many files wait rather than compute (child processes, Chromium, real-clock conformance
    // targets), so two workers a core keep both cores busy.
    maxWorkers: 4,
    // A worker runs file after file in one process with its module cache kept, instead of a fresh
    // process per file: no test here mocks a module or leans on process-wide state, and a fresh
    // process costs every file about 0.4 s of CPU before its first test.
    isolate: false,
  },
});
