import { describe, expect, it } from 'vitest';
import { browserCases, browserUnavailable } from '../../bench/cases/browser.js';
import { allCases } from '../../bench/cases/index.js';
import { TARGETS } from '../../bench/targets.js';

describe('bench: the browser cases', () => {
  it('are skipped with a message where Chromium is missing, and run (to fail) under CI=true', () => {
    expect(browserUnavailable(false, false)).toMatch(/\/usr\/bin\/chromium is missing \(apt-get install -y chromium/);
    expect(browserUnavailable(false, true)).toBeUndefined();
    expect(browserUnavailable(true, false)).toBeUndefined();
    for (const c of browserCases) expect(c.unavailable, c.name).toBeTypeOf('function');
  });

  it('every target names cases that exist', () => {
    const names = new Set(allCases.map((c) => c.name));
    for (const t of TARGETS) {
      expect(names.has(t.subject), `${t.label}: subject ${t.subject}`).toBe(true);
      for (const p of Array.isArray(t.peer) ? t.peer : [t.peer]) expect(names.has(p), `${t.label}: peer ${p}`).toBe(true);
    }
    expect(TARGETS.filter((t) => t.subject.startsWith('browser: ')).length).toBe(2);
  });
});
