import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failures, launchChromium, missingChromiumMessage, runInChromium, type SuiteResult } from './harness.js';

/**
 * A describe block whose tests run in Chromium: with the browser `available` its body runs;
 * without it the block fails under `CI=true` with {@link missingChromiumMessage}, and is empty
 * elsewhere (`chromiumAvailable` printed the skip).
 */
export function describeInChromium(name: string, available: boolean, body: () => void): void {
  describe(name, () => {
    if (available) body();
    else if (process.env.CI === 'true') {
      it('has Chromium to run in', () => {
        throw new Error(missingChromiumMessage);
      });
    }
  });
}

/**
 * Runs page suites (test files bundled for the browser, name → entry) in one Chromium, all in one
 * `beforeAll`, with one test per suite: it passes when the page ran at least one case and every
 * case passed. `also` are entries run beside the suites but checked by `more`, which declares
 * its own tests and reads each entry's result through `result(entry)`.
 */
export function describePageSuites(
  name: string,
  available: boolean,
  suites: Record<string, string>,
  also: { entries: readonly string[]; more(result: (entry: string) => SuiteResult): void } = { entries: [], more: () => undefined },
): void {
  describeInChromium(name, available, () => {
    let results: Map<string, SuiteResult>;
    let close: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      const browser = await launchChromium();
      close = browser.close;
      const run = await runInChromium([...Object.values(suites), ...also.entries], { context: browser.context });
      results = new Map(run.map((r) => [r.entry, r]));
    }, 120_000);

    afterAll(() => close?.());

    for (const [suiteName, entry] of Object.entries(suites)) {
      it(`${suiteName}: every case passes in the page`, () => {
        const suite = results.get(entry)!;
        expect(suite.cases.length, `${suiteName} ran no cases`).toBeGreaterThan(0);
        const failed = failures(suite);
        if (failed !== '') throw new Error(`${suiteName}: ${suite.cases.filter((c) => !c.ok).length} of ${suite.cases.length} cases failed in Chromium\n${failed}`);
      });
    }

    also.more((entry) => results.get(entry)!);
  });
}
