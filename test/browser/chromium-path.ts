/** Where Debian's Chromium is, and what a run under `CI=true` says when it is missing (no Playwright import: the bench's instruction-count bundle takes this file). */
export const CHROMIUM = '/usr/bin/chromium';

export const missingChromiumMessage = `CI=true and ${CHROMIUM} is missing: install it (apt-get install -y chromium; .ci/run does)`;
