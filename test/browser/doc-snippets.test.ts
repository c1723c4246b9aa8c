/**
 * The ```ts browser blocks of README.md and docs/recipes.md run in Chromium (test/examples/
 * snippets.test.ts runs the ```ts blocks in Node). Each block names its file on its first line
 * (`// app.ts, ...`); each is bundled as that file and served from one local origin, where a
 * page loads it, twice on one profile, so what IndexedDB keeps shows in the second visit.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeInChromium } from './describe.js';
import { chromiumAvailable, launchChromium } from './harness.js';
import { serveOrigin } from './origin.js';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/** The browser blocks of `doc`, by the file name on their first line, written where esbuild resolves `ringbus` to this package. */
function browserBlocks(doc: string): Map<string, string> {
  const text = readFileSync(here(`../../${doc}`), 'utf8');
  const dir = here('../.snippets');
  mkdirSync(dir, { recursive: true });
  const found = new Map<string, string>();
  for (const m of text.matchAll(/```ts browser\n([\s\S]*?)```/g)) {
    const name = /^\/\/ ([\w-]+)\.ts\b/.exec(m[1])?.[1];
    if (name === undefined) throw new Error(`${doc}: a \`\`\`ts browser block must name its file on its first line (// name.ts ...):\n${m[1]}`);
    const file = `${dir}/browser-${name}.ts`;
    writeFileSync(file, m[1]);
    found.set(name, file);
  }
  return found;
}

const page = (script: string): { html: string } => ({ html: `<!doctype html><meta charset="utf-8"><script type="module" src="/${script}"></script>` });

/** Loads `url` in a new page of `context` until it logs `last`; returns what it logged. */
async function visit(context: import('playwright-core').BrowserContext, url: string, last: string): Promise<string[]> {
  const p = await context.newPage();
  const lines: string[] = [];
  const errors: string[] = [];
  p.on('console', (m) => m.type() === 'log' && lines.push(m.text()));
  p.on('pageerror', (e) => errors.push(e.message));
  const done = p.waitForEvent('console', { predicate: (m) => m.text() === last || m.text().startsWith(last), timeout: 20_000 });
  await p.goto(url);
  await done;
  await p.close();
  expect(errors).toEqual([]);
  return lines;
}

const available = chromiumAvailable('test/browser/doc-snippets.test.ts');

describeInChromium('browser snippets of README.md and docs/recipes.md in Chromium', available, () => {

  it('README: the indexedDbStorage page stores a publish, and the next visit goes on after it', async () => {
    const blocks = browserBlocks('README.md');
    expect([...blocks.keys()]).toEqual(['app']);
    const origin = await serveOrigin({ '/': page('app.js'), '/app.js': { script: blocks.get('app')! } });
    const browser = await launchChromium();
    try {
      expect(await visit(browser.context, `${origin.origin}/`, 'order 1 stored')).toEqual(['order 1 stored at offset 0']);
      expect(await visit(browser.context, `${origin.origin}/`, 'order 1 stored')).toEqual(['order 1 stored at offset 1']);
    } finally {
      await browser.close();
      await origin.close();
    }
  }, 60_000);

  it('recipes: a tab of the durable SharedWorker bus publishes and takes a job, and the next visit goes on after it', async () => {
    const blocks = browserBlocks('docs/recipes.md');
    expect([...blocks.keys()]).toEqual(['bus-worker']);
    const origin = await serveOrigin({
      '/': page('tab.js'),
      '/tab.js': { script: here('./fixtures/doc-tab.ts') },
      '/bus-worker.js': { script: blocks.get('bus-worker')! },
    });
    const browser = await launchChromium();
    try {
      expect(await visit(browser.context, `${origin.origin}/`, 'closed')).toEqual(['published at offset 0', 'handled job 1', 'closed']);
      // the worker may outlive the tab or end with it: either way the queue goes on after offset 0
      expect(await visit(browser.context, `${origin.origin}/`, 'closed')).toEqual(['published at offset 1', 'handled job 1', 'closed']);
    } finally {
      await browser.close();
      await origin.close();
    }
  }, 60_000);
});
