import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEEP } from '../reliability/config.js';
import { describePageSuites } from './describe.js';
import { bundleForBrowser, chromiumAvailable } from './harness.js';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/**
 * What runs in the page: the browser suites, the codec test files as they are, and the
 * engine-neutral conformance suite on the memory engine (on the page's clock and the
 * 100 000-input codec fuzz under RINGBUS_DEEP=1).
 */
const SUITES: Record<string, string> = {
  codec: here('./suites/codec.ts'),
  streams: here('./suites/streams.ts'),
  core: here('./suites/core.ts'),
  'test/codec/codecs.test.ts': here('../codec/codecs.test.ts'),
  'test/codec/compression.test.ts': here('../codec/compression.test.ts'),
  'neutral conformance, virtual time': here('./suites/neutral-virtual.ts'),
  ...(DEEP ? { 'neutral conformance, real clock': here('./suites/neutral-real-clock.ts'), 'test/codec/fuzz.test.ts': here('../codec/fuzz.test.ts') } : {}),
};
const HARNESS_CHECK = here('./fixtures/harness-check.ts');

const available = chromiumAvailable('test/browser/chromium.test.ts');

describe('bundling for the browser', () => {
  it('refuses a test file that imports a node: module, naming the line', async () => {
    await expect(bundleForBrowser(here('./fixtures/node-import.ts'))).rejects.toThrow(/node-import\.ts: the browser bundle imports a node: module at line \d+: .*node:fs/);
  });

  it('bundles every suite without a node: module', async () => {
    for (const entry of Object.values(SUITES)) expect(await bundleForBrowser(entry)).not.toMatch(/["']node:/);
  });
});

describePageSuites('in Chromium', available, SUITES, {
  entries: [HARNESS_CHECK],
  more(result) {
    it('the harness reports a failed assertion, an unhandled rejection and an expected failure that passed, each with its message; runs hooks in order; reports skips', () => {
      const suite = result(HARNESS_CHECK);
      const outcome = Object.fromEntries(suite.cases.map((c) => [c.name, c.skipped ? 'skipped' : c.ok ? 'ok' : c.error!.split('\n')[0]]));
      expect(outcome).toEqual({
        'harness > passes': 'ok',
        'harness > fails an assertion': 'AssertionError: expected 2 to be 3 // Object.is equality',
        'harness > fails on a rejection nobody handled': 'unhandled: Error: dropped',
        'harness > runs in a browser': 'ok',
        'expected failures > fail as expected': 'ok',
        'expected failures > pass though expected to fail': 'expected this case to fail, and it passed: drop `.fails`',
        'hooks and skips > first': 'ok',
        'hooks and skips > is declared skipped and not run': 'skipped',
        'hooks and skips > second': 'ok',
        'hooks and skips > skipIf > skipIf(true)': 'skipped',
        'hooks and skips > each doubles 1': 'ok',
        'hooks and skips > each doubles 2': 'ok',
        'hooks and skips > nested > sees the outer hooks once': 'ok',
        'after hooks and skips > the previous block ran its afterAll': 'ok',
      });
      expect(suite.pageErrors).toEqual([]);
    });
  },
});
