/**
 * Cases that run in Chromium (Debian's /usr/bin/chromium through playwright-core): the page
 * (bench/browser/page.ts, bundled for the browser) prepares and runs each trial; this process
 * times `run()` around one `page.evaluate` (one round trip to the browser, small against trials
 * of tens of milliseconds and more). One browser per case process, launched at its
 * first trial, with `--expose-gc` so each trial starts from a collected heap as in Node.
 *
 * Without Chromium, outside CI, the run skips these cases saying so; under `CI=true` they run
 * and fail with the message saying to install it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import type { launchChromium } from '../../test/browser/harness.js';
import { CHROMIUM, missingChromiumMessage } from '../../test/browser/chromium-path.js';
import type { Case, Result, Trial } from '../lib/harness.js';

const PAGE = fileURLToPath(new URL('../browser/page.ts', import.meta.url));

interface PageBench {
  prepare(name: string, n: number): Promise<void>;
  run(): Promise<Result>;
  dispose(): Promise<void>;
}

interface Session {
  page: Page;
  errors: string[];
  close(): Promise<void>;
}

let session: Promise<Session> | undefined;

async function open(): Promise<Session> {
  if (!existsSync(CHROMIUM)) throw new Error(missingChromiumMessage);
  // loaded here, not at the top: Playwright and esbuild cannot run inside bench:ir's one-file bundle, which takes every case
  const [{ launchChromium }, { serveOrigin }] = await Promise.all([import('../../test/browser/harness.js'), import('../../test/browser/origin.js')]);
  const origin = await serveOrigin({
    '/': { html: '<!doctype html><meta charset="utf-8"><title>ringbus bench</title><script type="module" src="/bench.js"></script>' },
    '/bench.js': { script: PAGE },
  });
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  try {
    browser = await launchChromium({ args: ['--js-flags=--expose-gc'] });
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${origin.origin}/`);
    await page.waitForFunction(() => '__ringbusBench' in globalThis, undefined, { timeout: 30_000 });
    return {
      page,
      errors,
      async close() {
        await browser?.close();
        await origin.close();
      },
    };
  } catch (e) {
    await browser?.close();
    await origin.close();
    throw e;
  }
}

type Bench = { __ringbusBench: PageBench };

/** The page's bench, driven from here; a page error fails the call with its message. */
function pageBench(s: Session): PageBench {
  const checked = async <T>(p: Promise<T>): Promise<T> => {
    const out = await p;
    if (s.errors.length > 0) throw new Error(`page error: ${s.errors.join('; ')}`);
    return out;
  };
  return {
    prepare: (name, n) => checked(s.page.evaluate(([c, k]) => (globalThis as unknown as Bench).__ringbusBench.prepare(c, k), [name, n] as const)),
    run: () => checked(s.page.evaluate(() => (globalThis as unknown as Bench).__ringbusBench.run())),
    dispose: () => checked(s.page.evaluate(() => (globalThis as unknown as Bench).__ringbusBench.dispose())),
  };
}

/**
 * The reason to skip the browser cases, or undefined when they run: Chromium is there, or
 * `CI=true` (where a missing one fails them instead).
 */
export function browserUnavailable(installed = existsSync(CHROMIUM), ci = process.env.CI === 'true'): string | undefined {
  if (installed || ci) return undefined;
  return `${CHROMIUM} is missing (apt-get install -y chromium to run it)`;
}

/** A case run by the page's case `pageCase`. */
function browserCase(c: Omit<Case, 'prepare' | 'group' | 'unavailable' | 'close'>, pageCase: string): Case {
  return {
    ...c,
    group: 'browser',
    unavailable: () => browserUnavailable(),
    async prepare(n): Promise<Trial> {
      session ??= open();
      const b = pageBench(await session);
      await b.prepare(pageCase, n);
      return { run: () => b.run(), dispose: () => b.dispose() };
    },
    async close() {
      const s = session;
      session = undefined;
      if (s !== undefined) await (await s).close();
    },
  };
}

/** Blink's streams take a few hundred thousand reads a second: N ÷ 10 keeps a trial near a second. */
const streamSize = (base: number, quick: boolean): number => (quick ? base : Math.max(1000, Math.floor(base / 10)));

/** The durable cases write every message to disk: N ÷ 100 (a strict transaction reaches the disk each 1000 messages). */
const durableSize = (base: number, quick: boolean): number => (quick ? 2000 : Math.max(1000, Math.floor(base / 100)));

export const browserCases: Case[] = [
  browserCase(
    {
      name: 'browser: ringbus readable() reader ack',
      note: 'Chromium page; grouped topic (cap 1024, block); readable({ group, prefetch: 1024 }).getReader().read() loop, d.ack(); tryPublish, else await publish',
      size: streamSize,
    },
    'readable() reader ack',
  ),
  browserCase(
    {
      name: 'browser: ReadableStream reader (hwm 1024)',
      note: 'Chromium page; native ReadableStream, pull source, CountQueuingStrategy(1024), getReader().read() loop',
      size: streamSize,
    },
    'ReadableStream reader (hwm 1024)',
  ),
  browserCase(
    {
      name: 'browser: ringbus indexedDbStorage publish ×1000 in flight',
      note: "Chromium page; createBus({ storage: indexedDbStorage(fresh db) }) (durability 'strict'), topic cap 1024; 1000 publishes, await all, repeat",
      size: durableSize,
    },
    'indexedDbStorage publish ×1000 in flight',
  ),
  browserCase(
    {
      name: 'browser: IndexedDB put batch 1000 (strict)',
      note: "Chromium page; raw IndexedDB: one readwrite transaction (durability 'strict') of 1000 puts of the record indexedDbStorage keeps, await its commit, repeat",
      size: durableSize,
    },
    'IndexedDB put batch 1000 (strict)',
  ),
];
