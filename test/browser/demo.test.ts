import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { serveDemo } from '../../examples/browser/serve.js';
import type { Bus } from '../../src/index.js';
import { describeInChromium } from './describe.js';
import { chromiumAvailable, launchChromium } from './harness.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
/** Where the screenshot goes (gitignored). */
const OUTPUT = join(ROOT, 'test-results', 'browser-demo');

const available = chromiumAvailable('test/browser/demo.test.ts');

type InPage = { demo: { counts: { published: number; handled: number; redelivered: number }; bus: Bus } };

/** The queue's figures as the page shows them, as numbers (NaN for a dash). */
function shown(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() => {
    const out: Record<string, number> = {};
    for (const v of document.querySelectorAll<HTMLElement>('[data-figure]')) out[v.dataset.figure!] = Number(v.textContent!.replace(/,/g, ''));
    return out;
  });
}

const counts = (page: Page): Promise<InPage['demo']['counts']> => page.evaluate(() => ({ ...(globalThis as unknown as InPage).demo.counts }));

async function samples(page: Page): Promise<number> {
  return Number(await page.evaluate(() => document.body.dataset.samples));
}

/** Waits for `n` more samples drawn on the page. */
async function moreSamples(page: Page, n: number): Promise<void> {
  await page.waitForFunction((target) => Number(document.body.dataset.samples) >= target, (await samples(page)) + n, { timeout: 10_000 });
}

/** The figures of topic `jobs` the served bus reports now, asked through the page's bus. */
function reported(page: Page): Promise<Record<string, number>> {
  return page.evaluate(async () => {
    const jobs = (globalThis as unknown as InPage).demo.bus.topic('jobs');
    const before = jobs.stats(); // the figures last received; asks for fresh ones
    let t = before;
    while (t === before) {
      await new Promise((r) => setTimeout(r, 5));
      t = jobs.stats();
    }
    const g = t.groups.workers;
    return { published: t.published, depth: t.tail - g.next, lag: g.lag, pending: g.pending, acked: g.acked, members: g.members };
  });
}

describeInChromium('examples/browser: the demo in Chromium, two tabs', available, () => {

  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
  });

  it('both tabs produce and work the one queue; the page shows the figures the bus reports', async () => {
    const demo = await serveDemo({ port: 0 });
    closers.push(demo.close);
    const browser = await launchChromium({ viewport: { width: 1280, height: 760 } });
    closers.push(browser.close);
    const errors: string[] = [];
    const tabs: Page[] = [];
    for (let i = 0; i < 2; i++) {
      const page = await browser.context.newPage();
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(demo.url);
      tabs.push(page);
    }
    const [a, b] = tabs;
    for (const page of tabs) await page.waitForFunction(() => Number(document.body.dataset.samples) >= 3, undefined, { timeout: 10_000 });
    expect(await a.locator('#status').textContent()).toMatch(/^live · tab /);
    expect(await a.locator('.uplot canvas').count()).toBeGreaterThanOrEqual(2);

    // both tabs are members of `workers` and each handles some of the jobs
    await expect.poll(async () => (await shown(a)).members, { timeout: 10_000 }).toBe(2);
    await expect.poll(async () => Math.min((await counts(a)).handled, (await counts(b)).handled), { timeout: 10_000 }).toBeGreaterThan(0);
    await moreSamples(a, 2);
    expect((await shown(a)).publishRate).toBeGreaterThan(0);
    expect((await shown(a)).ackRate).toBeGreaterThan(0);

    await mkdir(OUTPUT, { recursive: true });
    await a.screenshot({ path: join(OUTPUT, 'demo.png'), fullPage: true });

    // stop producing in both tabs; once the workers drained the queue the figures hold still
    for (const page of tabs) await page.click('#produce');
    await expect.poll(async () => (await shown(a)).lag, { timeout: 10_000 }).toBe(0);
    await moreSamples(a, 2);
    await moreSamples(b, 2);
    const bus = await reported(a);
    const [ca, cb] = [await counts(a), await counts(b)];
    expect(bus.published).toBe(ca.published + cb.published);
    expect(bus.acked).toBe(ca.handled + cb.handled);
    expect(bus).toMatchObject({ depth: 0, lag: 0, pending: 0, members: 2 });
    for (const page of tabs) {
      const figures = await shown(page);
      expect({ published: figures.published, depth: figures.depth, lag: figures.lag, pending: figures.pending, acked: figures.acked, members: figures.members }).toEqual(bus);
      expect(figures.publishRate).toBe(0);
      expect(await page.locator('[data-tab="published"]').textContent()).toBe(String(page === a ? ca.published : cb.published));
    }
    // a tab closed: the other's view shows one worker left
    await b.close();
    await expect.poll(async () => (await shown(a)).members, { timeout: 5_000 }).toBe(1);
    expect(errors).toEqual([]);
    console.log(`test/browser/demo.test.ts: ${bus.published} jobs published (${ca.published} + ${cb.published}), handled ${ca.handled} + ${cb.handled}; screenshot in test-results/browser-demo/demo.png`);
  }, 60_000);
});
