import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TopicOptions, TopicStats } from '../../src/index.js';
import { describeInChromium } from './describe.js';
import { chromiumAvailable, failures, launchChromium, runInChromium } from './harness.js';
import { serveOrigin } from './origin.js';
import type { Seen, TabApi } from './tabs/tab.js';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
const available = chromiumAvailable('test/browser/tabs.test.ts');

type InPage = { tab: TabApi };

/** A page running test/browser/tabs/tab.ts: a `portEngine` client of the SharedWorker's bus. */
class Tab {
  constructor(readonly page: Page) {}

  open(topic: string, options: TopicOptions<number>): Promise<void> {
    return this.page.evaluate(([t, o]) => (globalThis as unknown as InPage).tab.open(t, o), [topic, options] as const);
  }

  publish(topic: string, values: number[]): Promise<number[]> {
    return this.page.evaluate(([t, v]) => (globalThis as unknown as InPage).tab.publish(t, v), [topic, values] as const);
  }

  work(topic: string, group: string, delayMs: number): Promise<void> {
    return this.page.evaluate(([t, g, ms]) => (globalThis as unknown as InPage).tab.work(t, g, ms), [topic, group, delayMs] as const);
  }

  hold(topic: string, group: string, n: number): Promise<number[]> {
    return this.page.evaluate(([t, g, k]) => (globalThis as unknown as InPage).tab.hold(t, g, k), [topic, group, n] as const);
  }

  seen(topic: string, group: string): Promise<Seen[]> {
    return this.page.evaluate(([t, g]) => (globalThis as unknown as InPage).tab.seen(t, g), [topic, group] as const);
  }

  stats(topic: string): Promise<TopicStats> {
    return this.page.evaluate((t) => (globalThis as unknown as InPage).tab.stats(t), topic);
  }
}

const offsets = (seen: Seen[]): number[] => seen.map((s) => s.offset);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Waits until `tab` has seen `n` deliveries of `group` (5 s at most) and returns them. */
async function seenN(tab: Tab, topic: string, group: string, n: number): Promise<Seen[]> {
  let seen: Seen[] = [];
  await expect.poll(async () => (seen = await tab.seen(topic, group)).length, { timeout: 5_000, interval: 5 }).toBeGreaterThanOrEqual(n);
  return seen;
}

describeInChromium('one bus for every tab: a SharedWorker serves it, each tab is a portEngine client', available, () => {

  let context: BrowserContext;
  let origin: string;
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    const browser = await launchChromium();
    closers.push(browser.close);
    context = browser.context;
    const served = await serveOrigin({
      '/tab.html': { html: '<!doctype html><meta charset="utf-8"><title>tab</title><script type="module" src="/tab.js"></script>' },
      '/tab.js': { script: here('./tabs/tab.ts') },
      '/bus-worker.js': { script: here('./tabs/bus-worker.ts') },
      '/dedicated-worker.js': { script: here('./tabs/dedicated-worker.ts') },
    });
    closers.push(served.close);
    origin = served.origin;
    // a tab open throughout, so the SharedWorker (and its bus) outlives the tabs each test closes
    // or crashes; a crash of the renderer hosting the worker would end the bus with it
    await openTab();
  }, 60_000);

  afterAll(async () => {
    for (const close of closers.reverse()) await close();
  });

  /** Opens a tab on the shared bus, connected; `query` as in tab.ts (`nolocks&heartbeatMs=100`). */
  async function openTab(query = ''): Promise<Tab> {
    const page = await context.newPage();
    await page.goto(`${origin}/tab.html${query === '' ? '' : `?${query}`}`);
    await page.waitForFunction(() => 'tab' in globalThis);
    await page.evaluate(() => (globalThis as unknown as InPage).tab.ready());
    return new Tab(page);
  }

  it('competing consumers in one group across two tabs: every message handled once, both tabs take part', async () => {
    const [a, b] = [await openTab(), await openTab()];
    const options = { groups: ['work'] };
    await a.open('jobs', options);
    await b.open('jobs', options);
    await a.work('jobs', 'work', 2);
    await b.work('jobs', 'work', 2);
    expect(await a.publish('jobs', range(100))).toEqual(range(100));
    await expect.poll(async () => (await a.seen('jobs', 'work')).length + (await b.seen('jobs', 'work')).length, { timeout: 10_000 }).toBe(100);
    const [byA, byB] = [offsets(await a.seen('jobs', 'work')), offsets(await b.seen('jobs', 'work'))];
    expect([...byA, ...byB].sort((x, y) => x - y)).toEqual(range(100));
    expect(byA.length).toBeGreaterThan(0);
    expect(byB.length).toBeGreaterThan(0);
    await expect.poll(async () => (await b.stats('jobs')).groups.work, { timeout: 5_000 }).toMatchObject({ members: 2, acked: 100, pending: 0, lag: 0, redelivered: 0 });
    await a.page.close();
    await b.page.close();
  });

  it('fan-out: a group in each tab, each gets every message in order', async () => {
    const [a, b] = [await openTab(), await openTab()];
    const options = { groups: ['left', 'right'] };
    await a.open('news', options);
    await b.open('news', options);
    await a.work('news', 'left', 0);
    await b.work('news', 'right', 0);
    await b.publish('news', range(50).map((i) => i * 10));
    for (const [tab, group] of [[a, 'left'], [b, 'right']] as const) {
      const seen = await seenN(tab, 'news', group, 50);
      expect(seen.map((s) => [s.offset, s.value])).toEqual(range(50).map((i) => [i, i * 10]));
    }
    const stats = await a.stats('news');
    expect(stats.groups.left).toMatchObject({ acked: 50, lag: 0 });
    expect(stats.groups.right).toMatchObject({ acked: 50, lag: 0 });
    await a.page.close();
    await b.page.close();
  });

  /**
   * A tab holds three deliveries of group `work` unsettled while another tab's member of the same
   * group waits, and nothing reaches that member; `leave` ends the holding tab. Returns what the
   * other tab got then, how long after `leave` began the last of it arrived, and the group's figures.
   * `query` is the holding tab's (tab.ts); the other tab's is `otherQuery`.
   */
  async function leaveHolding(topic: string, leave: (holder: Tab) => Promise<void>, query = '', otherQuery = query): Promise<{ seen: Seen[]; ms: number; stats: TopicStats }> {
    const [holder, other] = [await openTab(query), await openTab(otherQuery)];
    const options = { groups: ['work'] };
    await holder.open(topic, options);
    await other.open(topic, options);
    await holder.publish(topic, [10, 11, 12]);
    expect(await holder.hold(topic, 'work', 3)).toEqual([0, 1, 2]);
    await other.work(topic, 'work', 0);
    await new Promise((r) => setTimeout(r, 200));
    expect(await other.seen(topic, 'work'), 'delivered to the other tab while the first held it').toEqual([]);
    const start = Date.now();
    await leave(holder);
    const seen = await seenN(other, topic, 'work', 3);
    const ms = Math.max(...seen.map((s) => s.at)) - start;
    // nothing more comes: each message was given back once
    await new Promise((r) => setTimeout(r, 100));
    expect(offsets(await other.seen(topic, 'work'))).toEqual([0, 1, 2]);
    const stats = await other.stats(topic);
    await other.page.close();
    return { seen, ms, stats };
  }

  const givenBack = [
    [0, 10, 2],
    [1, 11, 2],
    [2, 12, 2],
  ];

  /** Kills the page's renderer, as a crash does: no unload, no goodbye. */
  async function crash(tab: Tab): Promise<void> {
    const crashed = new Promise((resolve) => tab.page.once('crash', resolve));
    const cdp = await context.newCDPSession(tab.page);
    cdp.send('Page.crash').catch(() => undefined); // its answer never comes: the page is gone
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('Page.crash sent, but the page reported no crash within 10 s')), 10_000)));
    await Promise.race([crashed, late]).finally(() => clearTimeout(timer));
    await tab.page.close();
  }

  it('a tab closed while holding deliveries: they go back at once to the other tab, each once, deliveryCount 2', async () => {
    const { seen, ms, stats } = await leaveHolding('closed', (holder) => holder.page.close());
    expect(seen.map((s) => [s.offset, s.value, s.deliveryCount])).toEqual(givenBack);
    // the heartbeat is a minute (tab.ts): the released Web Lock told the worker
    expect(ms).toBeLessThan(2_000);
    expect(stats.groups.work).toMatchObject({ members: 1, delivered: 6, redelivered: 3, acked: 3, pending: 0, lag: 0 });
    console.log(`test/browser/tabs.test.ts: a closed tab's deliveries back in the other tab after ${ms} ms`);
  });

  it('a tab that crashes while holding deliveries: they go back at once to the other tab, each once, deliveryCount 2', async () => {
    const { seen, ms, stats } = await leaveHolding('crashed', crash);
    expect(seen.map((s) => [s.offset, s.value, s.deliveryCount])).toEqual(givenBack);
    expect(ms).toBeLessThan(2_000);
    expect(stats.groups.work).toMatchObject({ members: 1, delivered: 6, redelivered: 3, acked: 3, pending: 0, lag: 0 });
    console.log(`test/browser/tabs.test.ts: a crashed tab's deliveries back in the other tab after ${ms} ms`);
  });

  it('without Web Locks, the heartbeat tells: a crashed tab\'s deliveries are back within missedHeartbeats (3) + 1 heartbeats', async () => {
    const heartbeatMs = 100;
    // the other tab beats at tab.ts's default (a minute): a loaded machine's late timers cannot
    // make the server take it for gone too
    const { seen, ms } = await leaveHolding('no-locks', crash, `nolocks&heartbeatMs=${heartbeatMs}`, 'nolocks');
    expect(seen.map((s) => [s.offset, s.value, s.deliveryCount])).toEqual(givenBack);
    // the last ping came at most a heartbeat before the crash; the server gives up 3 heartbeats
    // after it, on a check every heartbeat (the margin is for a loaded machine's late timers)
    expect(ms).toBeGreaterThanOrEqual(2 * heartbeatMs);
    expect(ms).toBeLessThan(4 * heartbeatMs + 1_000);
    console.log(`test/browser/tabs.test.ts: without Web Locks (heartbeat ${heartbeatMs} ms), a crashed tab's deliveries back after ${ms} ms`);
  });

  it("the worker serving a tab's bus ends (the dedicated-Worker fallback, terminated): a waiting recv and a publish reject at once with ClosedError", async () => {
    const tab = await openTab('dedicated');
    await tab.open('jobs', { groups: ['work'] });
    const { recv, ms, publish } = await tab.page.evaluate(() => (globalThis as unknown as InPage).tab.outlive('jobs', 'work'));
    // an error, not the end a closed topic gives: the bus the consumer reads is gone
    expect(recv).toBe('ClosedError: the served bus is gone: the page or worker serving it ended');
    expect(ms).toBeLessThan(2_000);
    expect(publish).toBe('ClosedError: the served bus is gone: the page or worker serving it ended');
    console.log(`test/browser/tabs.test.ts: a waiting recv ended ${ms} ms after the serving worker was terminated`);
    await tab.page.close();
  });

  it("without a SharedWorker, fan-out only: each tab's bus mirrored over a BroadcastChannel (docs/engines.md) sees every tab's messages", async () => {
    const tabs = [await openTab('dedicated'), await openTab('dedicated')];
    for (const tab of tabs) await tab.page.evaluate(() => (globalThis as unknown as InPage).tab.mirror());
    await tabs[0].page.evaluate(() => (globalThis as unknown as InPage).tab.announce('from the first'));
    await tabs[1].page.evaluate(() => (globalThis as unknown as InPage).tab.announce('from the second'));
    for (const tab of tabs) {
      await expect.poll(() => tab.page.evaluate(() => [...(globalThis as unknown as InPage).tab.mirrored()].sort()), { timeout: 5_000 }).toEqual(['from the first', 'from the second']);
    }
    for (const tab of tabs) await tab.page.close();
  });

  it('the lease in a page: a silent client holding its Web Lock is kept; released, its delivery returns; the server names its own lock', async () => {
    const [suite] = await runInChromium(here('./suites/port-lease.ts'), { context });
    expect(suite.cases.length).toBe(3);
    const failed = failures(suite);
    if (failed !== '') throw new Error(failed);
  });

  it('the engine-neutral conformance suite: a page\'s portEngine clients of buses served in a SharedWorker', async () => {
    const [suite] = await runInChromium(here('./suites/neutral-shared-worker.ts'), { context, scripts: { '/conformance-worker.js': here('./tabs/conformance-worker.ts') } });
    expect(suite.cases.filter((c) => !c.skipped).length, 'ran no cases').toBeGreaterThan(50);
    const failed = failures(suite);
    if (failed !== '') throw new Error(`${suite.cases.filter((c) => !c.ok).length} of ${suite.cases.length} cases failed in Chromium\n${failed}`);
  }, 60_000);
});
