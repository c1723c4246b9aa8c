import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { BROWSER_CRASH_RUNS, DEEP, report } from '../reliability/config.js';
import { describePageSuites } from './describe.js';
import { chromiumAvailable, launchChromium, servePages } from './harness.js';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/** What runs in the page: indexedDbStorage's own cases, and the neutral conformance suite over it (also on the page's clock under RINGBUS_DEEP=1). */
const SUITES: Record<string, string> = {
  indexedDbStorage: here('./suites/indexeddb.ts'),
  'neutral conformance, memory + indexedDbStorage': here('./suites/neutral-indexeddb.ts'),
  ...(DEEP ? { 'neutral conformance, memory + indexedDbStorage, real clock': here('./suites/neutral-indexeddb-real-clock.ts') } : {}),
};

const available = chromiumAvailable('test/browser/indexeddb.test.ts');

describePageSuites('indexedDbStorage in Chromium', available, SUITES);

/**
 * What the pages reported, checked as they come: every resolved publish is in the recovered log
 * exactly once, and no ack that a later resolved publish made durable is delivered again.
 */
class CrashCheck {
  private seq = 0;
  private readonly issuedAt = new Map<string, number>();
  /** Acks not yet known durable, in order: [sequence number, id]. */
  private pendingAcks: [number, string][] = [];
  readonly resolved = new Set<string>();
  readonly durableAcks = new Set<string>();
  readonly acked = new Set<string>();
  readonly problems: string[] = [];
  delivered = 0;
  logSize = 0;
  drainedLag = -1;

  event(kind: string, data: unknown): void {
    const at = ++this.seq;
    if (kind === 'issued') this.issuedAt.set(data as string, at);
    else if (kind === 'resolved') {
      const id = data as string;
      this.resolved.add(id);
      const issued = this.issuedAt.get(id)!;
      // every ack reported before this publish was issued went into its transaction or an earlier one
      const still: [number, string][] = [];
      for (const a of this.pendingAcks) {
        if (a[0] < issued) this.durableAcks.add(a[1]);
        else still.push(a);
      }
      this.pendingAcks = still;
    } else if (kind === 'acked') {
      this.acked.add(data as string);
      this.pendingAcks.push([at, data as string]);
    } else if (kind === 'delivered') {
      this.delivered++;
      if (this.durableAcks.has(data as string)) this.problems.push(`${data as string} was delivered again after its ack was durable`);
    } else if (kind === 'log') this.checkLog(data as string[]);
    else if (kind === 'drained') this.drainedLag = data as number;
  }

  /** A new page recovered `log`: every resolved publish once, nothing twice. */
  private checkLog(log: string[]): void {
    this.logSize = log.length;
    const seen = new Set<string>();
    for (const id of log) {
      if (seen.has(id)) this.problems.push(`${id} is in the recovered log twice`);
      seen.add(id);
    }
    for (const id of this.resolved) if (!seen.has(id)) this.problems.push(`${id} resolved but is not in the recovered log`);
  }
}

/** Opens the crash page in `context` and starts round `name`; resolves with the page once it has reported its recovered log. */
async function startRound(context: BrowserContext, url: string, check: CrashCheck, name: string, drain: boolean) {
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  let logged!: () => void;
  const recovered = new Promise<void>((r) => (logged = r));
  await page.exposeBinding('report', (_source, events: [string, unknown][]) => {
    for (const [kind, data] of events) {
      check.event(kind, data);
      if (kind === 'log') logged();
    }
  });
  await page.goto(url);
  const running = page.evaluate(([n, d]) => (globalThis as unknown as { __crashRound(name: string, drain: boolean): Promise<void> }).__crashRound(n, d), [name, drain] as const);
  return { page, pageErrors, recovered, running };
}

describe('indexedDbStorage in Chromium: a page killed mid-stream', () => {
  if (!available) return; // reported by the describe above

  it(`every resolved publish is there exactly once after each of ${BROWSER_CRASH_RUNS} renderer kills; no durable ack is delivered again`, async () => {
    const browser = await launchChromium();
    const pages = await servePages([here('./fixtures/idb-crash-page.ts')]);
    const check = new CrashCheck();
    try {
      for (let round = 0; round < BROWSER_CRASH_RUNS; round++) {
        const { page, pageErrors, recovered, running } = await startRound(browser.context, pages.url(0), check, `r${round}`, false);
        let failed: unknown;
        running.catch((e: unknown) => (failed = e)); // the page dies under it: anything before is a failure
        await Promise.race([recovered, running]);
        const resolvedBefore = check.resolved.size;
        // publish and consume for a while, then kill the renderer without warning
        const until = Date.now() + 100 + Math.random() * 300;
        while ((Date.now() < until || check.resolved.size === resolvedBefore) && failed === undefined) await new Promise((r) => setTimeout(r, 20));
        if (failed !== undefined) throw failed;
        const crashed = page.waitForEvent('crash');
        const cdp = await browser.context.newCDPSession(page);
        cdp.send('Page.crash').catch(() => undefined);
        await crashed;
        await page.close().catch(() => undefined);
        expect(pageErrors).toEqual([]);
      }
      // a last page recovers, checks, and drains the group: every resolved publish was acked at least once
      const last = await startRound(browser.context, pages.url(0), check, 'final', true);
      await last.running;
      expect(last.pageErrors).toEqual([]);
      await last.page.close();
      expect(check.problems.slice(0, 10)).toEqual([]);
      expect(check.drainedLag).toBe(0);
      const unacked = [...check.resolved].filter((id) => !check.acked.has(id));
      expect(unacked.slice(0, 10)).toEqual([]);
      expect(check.resolved.size).toBeGreaterThan(BROWSER_CRASH_RUNS);
      report(`browser crash indexeddb: ${BROWSER_CRASH_RUNS} renderer kills, ${check.resolved.size} resolved publishes checked, ${check.durableAcks.size} durable acks, ${check.delivered} deliveries, final log ${check.logSize}`);
    } finally {
      await pages.close();
      await browser.close();
    }
  }, DEEP ? 900_000 : 120_000);
});

/** The ```ts block of docs/storage.md's browser section, written where esbuild resolves `ringbus` to this package. */
function storageDocExample(): string {
  const doc = readFileSync(here('../../docs/storage.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## In the browser'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)![1];
  expect(code).toContain("from 'ringbus/browser'");
  const dir = here('../.snippets');
  mkdirSync(dir, { recursive: true });
  const file = `${dir}/storage-browser-example.ts`;
  writeFileSync(file, code);
  return file;
}

describe('docs/storage.md', () => {
  if (!available) return;

  it('the indexedDbStorage example runs in Chromium, and a second visit on the same profile goes on where the first stopped', async () => {
    const browser = await launchChromium();
    const pages = await servePages([storageDocExample()]);
    try {
      const visit = async (): Promise<string[]> => {
        const page = await browser.context.newPage();
        const lines: string[] = [];
        const errors: string[] = [];
        page.on('console', (m) => m.type() === 'log' && lines.push(m.text()));
        page.on('pageerror', (e) => errors.push(e.message));
        const done = page.waitForEvent('console', { predicate: (m) => m.text().endsWith('jobs published so far'), timeout: 20_000 });
        await page.goto(pages.url(0));
        await done;
        await page.close();
        expect(errors).toEqual([]);
        return lines;
      };
      expect(await visit()).toEqual(['job 0, delivery 1', 'job 1, delivery 1', '2 jobs published so far']);
      expect(await visit()).toEqual(['job 2, delivery 1', 'job 3, delivery 1', '4 jobs published so far']);
    } finally {
      await pages.close();
      await browser.close();
    }
  }, 60_000);
});
