/**
 * Serves the demo (a work queue shared by every tab, with a live view of `bus.stats$`) on
 * localhost: bundles tab.ts and bus-worker.ts with esbuild and serves them with index.html,
 * demo.css and uPlot's stylesheet.
 *
 * Run: npm run demo:browser (PORT=5180 by default), then open the address it prints in two tabs.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
const require = createRequire(import.meta.url);

const JS = 'text/javascript; charset=utf-8';

/** Bundles the page's and the worker's scripts for browsers. */
async function bundle(entry: string): Promise<string> {
  const out = await build({ entryPoints: [here(entry)], bundle: true, platform: 'browser', format: 'esm', target: 'es2022', conditions: ['ringbus-source'], write: false, logLevel: 'silent' });
  return out.outputFiles[0].text;
}

/** Starts the demo's server; `port` 0 takes any free port. Resolves once it listens. */
export async function serveDemo(options: { port?: number; host?: string } = {}): Promise<{ url: string; close(): Promise<void> }> {
  const files: Record<string, { type: string; body: string }> = {
    '/': { type: 'text/html; charset=utf-8', body: await readFile(here('./index.html'), 'utf8') },
    '/tab.js': { type: JS, body: await bundle('./tab.ts') },
    '/bus-worker.js': { type: JS, body: await bundle('./bus-worker.ts') },
    '/demo.css': { type: 'text/css; charset=utf-8', body: await readFile(here('./demo.css'), 'utf8') },
    '/uplot.css': { type: 'text/css; charset=utf-8', body: await readFile(require.resolve('uplot/dist/uPlot.min.css'), 'utf8') },
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const file = files[path === '/index.html' ? '/' : path];
    if (file === undefined) res.writeHead(404).end('not found');
    else res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 5180, options.host ?? '127.0.0.1', resolve);
  });
  return {
    // localhost is a secure context, as SharedWorker modules and Web Locks want
    url: `http://localhost:${(server.address() as AddressInfo).port}/`,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { url } = await serveDemo({ port: Number(process.env.PORT ?? 5180) });
  console.log(`ringbus demo at ${url}: open it in two tabs (Ctrl-C stops)`);
}
