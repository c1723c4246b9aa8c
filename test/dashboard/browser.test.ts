import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { createBus } from '../../src/index.js';
import type { Bus, BusStats } from '../../src/index.js';
import { storageStats } from '../../src/node/dashboard-cli.js';
import { fileStorage, serveDashboard } from '../../src/node/index.js';
import { describeInChromium } from '../browser/describe.js';
import { chromiumAvailable, launchChromium } from '../browser/harness.js';
import { cleanTempDirs, tempDir } from '../node/helpers.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
/** Where the screenshot goes (gitignored); `RINGBUS_UPDATE_SCREENSHOT=1` also copies it to docs/. */
const OUTPUT = join(ROOT, 'test-results', 'dashboard');

const available = chromiumAvailable('test/dashboard/browser.test.ts');

/** A bus with traffic: orders published every few ms, billing acking (nacking some once), audit behind, dead letters. */
function workload(): { bus: Bus; stop(): Promise<void> } {
  const bus = createBus();
  const orders = bus.topic<number>('orders', { capacity: 2048, groups: ['billing', 'audit'], maxDeliveries: 1, deadLetter: 'orders.dlq' });
  bus.topic<number>('orders.dlq', { groups: ['ops'] });
  const billing = orders.messages({ group: 'billing' }).subscribe((d) => (d.value % 7 === 0 ? d.nack() : d.ack()));
  const audit = orders.consumer({ group: 'audit' });
  let running = true;
  const producer = (async () => {
    for (let i = 0; running; i++) {
      await orders.publish(i);
      if (i % 3 === 0) audit.tryRecv()?.ack();
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  return {
    bus,
    async stop() {
      running = false;
      await producer;
      billing.unsubscribe();
      audit.close();
    },
  };
}

/** The figures the page shows as text, per topic and group. */
function shown(page: Page): Promise<Record<string, { figures: Record<string, string>; groups: Record<string, Record<string, string>> }>> {
  return page.evaluate(() => {
    const out: Record<string, { figures: Record<string, string>; groups: Record<string, Record<string, string>> }> = {};
    for (const section of document.querySelectorAll<HTMLElement>('section.topic')) {
      const figures: Record<string, string> = {};
      for (const v of section.querySelectorAll<HTMLElement>('.figures [data-figure]')) figures[v.dataset.figure!] = v.textContent!;
      const groups: Record<string, Record<string, string>> = {};
      for (const row of section.querySelectorAll<HTMLElement>('tr[data-group]')) {
        const cells: Record<string, string> = {};
        for (const td of row.querySelectorAll<HTMLElement>('td[data-figure]')) cells[td.dataset.figure!] = td.textContent!;
        groups[row.dataset.group!] = cells;
      }
      out[section.dataset.topic!] = { figures, groups };
    }
    return out;
  });
}

const num = (s: string): number => Number(s.replace(/,/g, ''));

async function samples(page: Page): Promise<number> {
  return Number(await page.evaluate(() => document.body.dataset.samples));
}

async function waitForSamples(page: Page, n: number): Promise<void> {
  await page.waitForFunction((target) => Number(document.body.dataset.samples) >= target, n, { timeout: 15_000 });
}

afterAll(cleanTempDirs);

const launch = (): ReturnType<typeof launchChromium> => launchChromium({ viewport: { width: 1280, height: 1100 } });

describeInChromium('dashboard in Chromium', available, () => {

  it('charts and figures update while a workload runs, and match bus.stats() once it stops', async () => {
    const { bus, stop } = workload();
    const dashboard = await serveDashboard(bus, { intervalMs: 100, title: 'orders service' });
    let browser: Awaited<ReturnType<typeof launch>> | undefined;
    let stopped = false;
    try {
      browser = await launch();
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(dashboard.url);
      await waitForSamples(page, 3);
      const first = await shown(page);
      expect(Object.keys(first).sort()).toEqual(['orders', 'orders.dlq']);
      const canvases = await page.locator('section.topic[data-topic="orders"] .uplot canvas').count();
      expect(canvases).toBeGreaterThanOrEqual(4);
      const chartBefore = await page.locator('section.topic[data-topic="orders"] .uplot canvas').first().evaluate((c: HTMLCanvasElement) => c.toDataURL());

      await waitForSamples(page, (await samples(page)) + 5);
      const later = await shown(page);
      expect(num(later.orders.figures.published)).toBeGreaterThan(num(first.orders.figures.published));
      expect(num(later.orders.figures.publishRate)).toBeGreaterThan(0);
      const chartAfter = await page.locator('section.topic[data-topic="orders"] .uplot canvas').first().evaluate((c: HTMLCanvasElement) => c.toDataURL());
      expect(chartAfter).not.toBe(chartBefore);

      await mkdir(OUTPUT, { recursive: true });
      const screenshot = join(OUTPUT, 'dashboard.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      if (process.env.RINGBUS_UPDATE_SCREENSHOT === '1') await copyFile(screenshot, join(ROOT, 'docs', 'dashboard.png'));

      await stop();
      stopped = true;
      await waitForSamples(page, (await samples(page)) + 2);
      const stats: BusStats = bus.stats();
      const final = await shown(page);
      for (const [name, t] of Object.entries(stats.topics)) {
        const f = final[name].figures;
        expect(num(f.published), `${name} published`).toBe(t.published);
        expect(num(f.size), `${name} size`).toBe(t.size);
        expect(num(f.capacity), `${name} capacity`).toBe(t.capacity);
        expect(num(f.subscribers), `${name} subscribers`).toBe(t.subscribers);
        expect(num(f.waitingPublishers), `${name} waiting publishers`).toBe(t.waitingPublishers);
        expect(num(f.deadLettered), `${name} dead-lettered`).toBe(Object.values(t.groups).reduce((s, g) => s + g.deadLettered, 0));
        expect(num(f.publishRate), `${name} publish rate once idle`).toBe(0);
        for (const [group, g] of Object.entries(t.groups)) {
          const row = final[name].groups[group];
          for (const k of ['members', 'lag', 'pending', 'delivered', 'acked', 'nacked', 'redelivered', 'deadLettered', 'missed'] as const) {
            expect(num(row[k]), `${name}/${group} ${k}`).toBe(g[k]);
          }
        }
      }
      expect(stats.topics['orders.dlq'].published).toBeGreaterThan(0);
      expect(errors).toEqual([]);
    } finally {
      if (!stopped) await stop();
      await browser?.close();
      await dashboard.close();
      await bus.close();
    }
  }, 60_000);

  it('a storage directory (ringbus dashboard <dir>) shows what the files know and – for the rest', async () => {
    const dir = tempDir();
    const bus = createBus({ storage: fileStorage(dir) });
    const jobs = bus.topic<number>('jobs', { groups: ['workers'] });
    for (let i = 0; i < 20; i++) await jobs.publish(i);
    const dashboard = await serveDashboard(storageStats(dir), { intervalMs: 100 });
    let browser: Awaited<ReturnType<typeof launch>> | undefined;
    try {
      browser = await launch();
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(dashboard.url);
      await waitForSamples(page, 2);
      for (let i = 20; i < 30; i++) await jobs.publish(i);
      await page.waitForFunction(() => document.querySelector('section.topic [data-figure="published"]')?.textContent === '30', undefined, { timeout: 15_000 });
      const t = (await shown(page)).jobs;
      expect(t.figures.size).toBe('30');
      expect(t.figures.capacity).toBe('–');
      expect(t.figures.deliverRate).toBe('–');
      expect(t.groups.workers.lag).toBe('30');
      expect(t.groups.workers.acked).toBe('–');
      expect(errors).toEqual([]);
    } finally {
      await browser?.close();
      await dashboard.close();
      await bus.close();
    }
  }, 60_000);
});
