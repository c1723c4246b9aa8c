// Runs test files inside Chromium: each entry is bundled with esbuild for the browser
// platform (with `vitest` resolved to ./runtime.ts), served from 127.0.0.1 and loaded in a
// page of one shared browser; the page runs its cases and hands back their results. The tests
// stay in Node and drive the pages (open several, close or kill one), which vitest's browser
// mode, running each file inside the page, does not offer.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type BrowserContext } from 'playwright-core';
import { CHROMIUM, missingChromiumMessage } from './chromium-path.js';
import type { CaseResult } from './runtime.js';

export type { CaseResult } from './runtime.js';

export { CHROMIUM, missingChromiumMessage };
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/**
 * Whether Chromium is there to run in. Missing, it is an error under `CI=true` (the caller
 * fails with {@link missingChromiumMessage}) and a printed skip elsewhere.
 */
export function chromiumAvailable(file: string): boolean {
  const available = existsSync(CHROMIUM);
  if (!available && process.env.CI !== 'true') console.warn(`${file}: skipped, ${CHROMIUM} is missing (apt-get install -y chromium)`);
  return available;
}


/**
 * A persistent Chromium context on a fresh profile directory; `close()` removes the profile.
 * `args` are flags added to {@link CHROMIUM_ARGS}.
 */
export async function launchChromium(options: { viewport?: { width: number; height: number }; args?: string[] } = {}): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'ringbus-chromium-'));
  const { args = [], ...rest } = options;
  try {
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, ...rest, args: [...CHROMIUM_ARGS, ...args] });
    return {
      context,
      async close() {
        await context.close();
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
}

const RUNTIME = fileURLToPath(new URL('./runtime.ts', import.meta.url));

/** A `node:` module named anywhere in a bundle: an import, an export-from, a dynamic import or a require. */
const NODE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)["']node:/;

/**
 * Bundles one test file for the browser platform as an ES module: `vitest` resolves to the
 * in-page runtime, packages resolve through their `browser` fields. Throws if the bundle
 * names a `node:` module.
 */
export async function bundleForBrowser(entry: string): Promise<string> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: ['ringbus-source'],
    alias: { vitest: RUNTIME },
    // left in the output, where the check below finds them and names the line
    external: ['node:*'],
    write: false,
    logLevel: 'silent',
  });
  const code = out.outputFiles[0].text;
  const found = NODE_IMPORT.exec(code);
  if (found) {
    const line = code.slice(0, found.index).split('\n').length;
    throw new Error(`${basename(entry)}: the browser bundle imports a node: module at line ${line}: ${code.split('\n')[line - 1].trim()}`);
  }
  return code;
}

/** One entry's outcome: its cases, and errors the page reported outside them. */
export interface SuiteResult {
  entry: string;
  cases: CaseResult[];
  pageErrors: string[];
}

/** The failed cases of a suite, one per line with their messages, for an assertion message. */
export function failures(suite: SuiteResult): string {
  const lines = suite.cases.filter((c) => !c.ok).map((c) => `✗ ${c.name}\n    ${c.error?.split('\n').join('\n    ')}`);
  for (const e of suite.pageErrors) lines.push(`✗ page error: ${e}`);
  return lines.join('\n');
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * Runs the test files `entries` in Chromium, one page each, in order, in one browser
 * (`context`, or one launched for the call). Each page is a secure context on
 * http://127.0.0.1, so platform APIs that need one (crypto.subtle, IndexedDB, workers) are there.
 * `scripts` are more files to bundle and serve, by path (`{ '/worker.js': entry }`): what a page
 * starts as a worker or SharedWorker.
 */
export async function runInChromium(entries: string | string[], options: { context?: BrowserContext; scripts?: Record<string, string> } = {}): Promise<SuiteResult[]> {
  const list = typeof entries === 'string' ? [entries] : entries;
  const bundles = await Promise.all(list.map(bundleForBrowser));
  const scripts = new Map(await Promise.all(Object.entries(options.scripts ?? {}).map(async ([path, entry]) => [path, await bundleForBrowser(entry)] as const)));
  const server = createServer((req, res) => {
    const script = scripts.get(req.url ?? '');
    if (script !== undefined) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script);
      return;
    }
    const m = /^\/(\d+)\.(html|js)$/.exec(req.url ?? '');
    const i = m ? Number(m[1]) : -1;
    if (!m || i >= bundles.length) {
      res.writeHead(404).end();
    } else if (m[2] === 'html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><meta charset="utf-8"><title>${basename(list[i])}</title><script type="module" src="/${i}.js"></script>`);
    } else {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bundles[i]);
    }
  });
  const origin = await listen(server);
  const launched = options.context ? undefined : await launchChromium();
  const context = options.context ?? launched!.context;
  try {
    const results: SuiteResult[] = [];
    for (const [i, entry] of list.entries()) {
      const page = await context.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      try {
        await page.goto(`${origin}/${i}.html`);
        const ready = await page.evaluate(() => '__ringbusTests' in globalThis);
        const cases = ready
          ? await page.evaluate(() => (globalThis as unknown as { __ringbusTests: { run(): Promise<CaseResult[]> } }).__ringbusTests.run())
          : [];
        if (!ready) pageErrors.push(`${basename(entry)} did not load its test runtime`);
        results.push({ entry, cases, pageErrors });
      } finally {
        await page.close();
      }
    }
    return results;
  } finally {
    await launched?.close();
    // a browser that stays open keeps its connections alive, which close() would wait for
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

/**
 * Serves each of `entries`, bundled for the browser, as a page of its own on 127.0.0.1 (a
 * secure context), for a test that drives the pages itself: `url(i)` is the page of `entries[i]`.
 */
export async function servePages(entries: string[]): Promise<{ url(i: number): string; close(): Promise<void> }> {
  const bundles = await Promise.all(entries.map(bundleForBrowser));
  const server = createServer((req, res) => {
    const m = /^\/(\d+)\.(html|js)$/.exec(req.url ?? '');
    const i = m ? Number(m[1]) : -1;
    if (!m || i >= bundles.length) res.writeHead(404).end();
    else if (m[2] === 'js') res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bundles[i]);
    else res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><meta charset="utf-8"><title>${basename(entries[i])}</title><script type="module" src="/${i}.js"></script>`);
  });
  const origin = await listen(server);
  return {
    url: (i) => `${origin}/${i}.html`,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
