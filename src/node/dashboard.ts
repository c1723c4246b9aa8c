/**
 * `serveDashboard`: a live page of a bus's stats over node:http, with Server-Sent Events and a
 * Prometheus `/metrics` endpoint.
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import * as v from '../internal/validate.js';
import { PROMETHEUS_CONTENT_TYPE, prometheusText } from '../prometheus.js';
import type { BusStats } from '../types.js';
import { dashboardPage } from './internal/dashboard-page.js';

/** Options of {@link serveDashboard}. */
export interface DashboardOptions {
  /** TCP port; `0` picks a free one (read it from `url`). Default `0`. */
  readonly port?: number;
  /** Interface to listen on. Default `'127.0.0.1'` (this machine only). */
  readonly host?: string;
  /** Milliseconds between stats samples sent to the page. Default `1000`. */
  readonly intervalMs?: number;
  /** The page's title. Default `'ringbus'`. */
  readonly title?: string;
}

/** A running dashboard. */
export interface DashboardServer {
  /** The page's address, e.g. `http://127.0.0.1:39201/`. */
  readonly url: string;
  /** Stops sampling, ends every event stream and closes the server. Idempotent. */
  close(): Promise<void>;
}

/** Anything with a stats snapshot: a `Bus`, or a read-only view of a storage directory. */
export interface StatsSource {
  stats(): BusStats;
}

const require = createRequire(import.meta.url);

/** uPlot's browser build, served from the installed package. */
const ASSETS: Record<string, { readonly module: string; readonly type: string }> = {
  '/uplot.js': { module: 'uplot/dist/uPlot.iife.min.js', type: 'text/javascript; charset=utf-8' },
  '/uplot.css': { module: 'uplot/dist/uPlot.min.css', type: 'text/css; charset=utf-8' },
};

/**
 * Serves a dashboard of a bus's stats: one page with live charts per topic (publish, deliver
 * and ack rates; depth against capacity; each group's lag and pending; dead letters) and the
 * figures as text; `/events`, a Server-Sent Events stream of `bus.stats()` samples every
 * `intervalMs`; `/metrics`, the same stats in the Prometheus text format; `/stats`, one
 * snapshot as JSON. Charts are drawn with uPlot, served from the installed `uplot` package.
 *
 * Sampling runs only while the server is open; `close()` stops it and leaves no timer or socket.
 *
 * @param bus - The bus (or any `{ stats(): BusStats }`) to show.
 * @param options - `port` (0: any free port), `host` (`'127.0.0.1'`), `intervalMs` (1000), `title`.
 * @returns The running server once it listens; rejects with the listen error (e.g. `EADDRINUSE`)
 * or a `ConfigError` for a bad option.
 * @example
 * ```ts
 * import { createBus } from 'ringbus';
 * import { serveDashboard } from 'ringbus/node';
 *
 * const bus = createBus();
 * const dashboard = await serveDashboard(bus, { port: 9464 });
 * console.log(`dashboard at ${dashboard.url}`);
 * // ...
 * await dashboard.close();
 * ```
 */
export function serveDashboard(bus: StatsSource, options?: DashboardOptions): Promise<DashboardServer> {
  try {
    return start(bus, options);
  } catch (e) {
    return Promise.reject(e);
  }
}

function start(bus: StatsSource, options: DashboardOptions | undefined): Promise<DashboardServer> {
  if (typeof (bus as Partial<StatsSource> | null)?.stats !== 'function') v.fail('bus', 'a Bus (or an object with stats())', bus);
  const opts = v.options<DashboardOptions>('serveDashboard options', options, ['port', 'host', 'intervalMs', 'title']);
  const port = v.integer('port', opts.port ?? 0, 0, 65_535);
  const host = v.name('host', opts.host ?? '127.0.0.1');
  const intervalMs = v.duration('intervalMs', opts.intervalMs ?? 1000, 10, false);
  const title = opts.title ?? 'ringbus';
  if (typeof title !== 'string') v.fail('title', 'a string', title);

  const page = dashboardPage(title, intervalMs);
  const streams = new Set<ServerResponse>();
  let nextId = 0;
  let timer: ReturnType<typeof setInterval> | undefined;

  /** One event: a stats sample, or the reason there is none (a storage scan can fail), so the stream and the server outlive it. */
  function sample(): string {
    let data: string;
    try {
      data = JSON.stringify(bus.stats());
    } catch (e) {
      return `event: stats-error\ndata: ${JSON.stringify(v.messageOf(e))}\n\n`;
    }
    return `id: ${nextId++}\ndata: ${data}\n\n`;
  }

  function broadcast(): void {
    if (streams.size === 0) return;
    const event = sample();
    // Samples are snapshots: a reader that has not taken the last one skips this one, so a
    // stalled client never makes the server queue samples for it.
    for (const res of streams) if (!res.writableNeedDrain) res.write(event);
  }

  function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    if (path === '/') return send(res, 200, 'text/html; charset=utf-8', page);
    if (path === '/metrics') return send(res, 200, PROMETHEUS_CONTENT_TYPE, prometheusText(bus.stats()));
    if (path === '/stats') return send(res, 200, 'application/json; charset=utf-8', JSON.stringify(bus.stats()));
    if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(`retry: ${Math.max(1000, intervalMs)}\n`);
      res.write(sample());
      streams.add(res);
      res.on('close', () => streams.delete(res));
      return;
    }
    const asset = ASSETS[path];
    if (asset !== undefined) return send(res, 200, asset.type, await readFile(require.resolve(asset.module)));
    send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `${v.messageOf(e)}\n`);
      else res.destroy();
    });
  });

  return new Promise<DashboardServer>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      timer = setInterval(broadcast, intervalMs);
      const { port: bound } = server.address() as AddressInfo;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      let closing: Promise<void> | undefined;
      resolve({
        url: `http://${shownHost}:${bound}/`,
        close() {
          closing ??= new Promise<void>((done) => {
            clearInterval(timer);
            for (const res of streams) res.end();
            streams.clear();
            server.close(() => done());
            server.closeAllConnections();
          });
          return closing;
        },
      });
    });
  });
}
