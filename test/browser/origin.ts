// A local origin for tests that drive pages themselves: bundles served on http://127.0.0.1, a
// secure context with everything a page needs a real origin for (SharedWorker, Web Locks,
// IndexedDB).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bundleForBrowser } from './harness.js';

/** What one path serves: a page's markup, or a script bundled from an entry file. */
export type Route = { html: string } | { script: string };

/** Bundles every `script` route, serves all routes, and answers 404 to anything else. */
export async function serveOrigin(routes: Record<string, Route>): Promise<{ origin: string; close(): Promise<void> }> {
  const bodies = new Map<string, { type: string; body: string }>();
  for (const [path, route] of Object.entries(routes)) {
    bodies.set(path, 'html' in route ? { type: 'text/html; charset=utf-8', body: route.html } : { type: 'text/javascript; charset=utf-8', body: await bundleForBrowser(route.script) });
  }
  const server = createServer((req, res) => {
    const found = bodies.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (found === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': found.type }).end(found.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      // a browser that stays open keeps its connections alive, which close() would wait for
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
