import { describe, it } from 'vitest';
import { missingChromiumMessage } from './harness.js';

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
