/**
 * `ringbus dashboard <dir>`: the dashboard of a storage directory, read-only, next to (or
 * without) the process that writes it.
 *
 * @module
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import type { BusStats, GroupStats, TopicStats } from '../types.js';
import { serveDashboard, type StatsSource } from './dashboard.js';
import { inspectStorage } from './inspect.js';

/**
 * A stats source reading a storage directory, never writing or locking it. Each `stats()`
 * scans the directory: offsets, retained messages and bytes, and each durable group's committed
 * offset, lag and unsettled deliveries are known; figures only a live bus keeps (acks, nacks,
 * dead letters, members, capacity) are `NaN`, which the page shows as `–`.
 *
 * @param dir - A `fileStorage` directory.
 * @example
 * ```ts
 * const dashboard = await serveDashboard(storageStats('./data'), { intervalMs: 2000 });
 * ```
 */
export function storageStats(dir: string): StatsSource {
  return {
    stats(): BusStats {
      const topics: Record<string, TopicStats> = {};
      for (const t of inspectStorage(dir).topics) {
        const groups: Record<string, GroupStats> = {};
        for (const g of t.groups) {
          groups[g.name] = {
            members: NaN,
            next: NaN,
            committed: g.committed,
            pending: g.unsettledDeliveries,
            lag: g.lag,
            delivered: NaN,
            acked: NaN,
            nacked: NaN,
            redelivered: NaN,
            deadLettered: NaN,
            missed: NaN,
            filtered: NaN,
            expired: NaN,
            durable: true,
          };
        }
        topics[t.topic] = {
          name: t.topic,
          capacity: NaN,
          size: t.tail - t.head,
          head: t.head,
          tail: t.tail,
          published: t.tail,
          rejected: NaN,
          dropped: NaN,
          expired: NaN,
          agedOut: NaN,
          waitingPublishers: NaN,
          deadLetterDropped: NaN,
          subscribers: NaN,
          bytes: t.bytes,
          bytesPublished: NaN,
          closed: false,
          groups,
        };
      }
      return { timestamp: Date.now(), topics };
    },
  };
}

/** Runs `ringbus dashboard <dir> [--port N] [--host H] [--interval ms]` until `signal` aborts. */
export async function dashboardCommand(
  args: string[],
  io: { out: (s: string) => void; err: (s: string) => void },
  usage: string,
  signal?: AbortSignal,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' }, interval: { type: 'string', default: '2000' } },
    });
  } catch (e) {
    io.err(`ringbus: ${(e as Error).message}\n${usage}\n`);
    return 2;
  }
  const { positionals, values } = parsed;
  if (positionals.length !== 1) {
    io.err(`ringbus: dashboard needs <dir>\n${usage}\n`);
    return 2;
  }
  const dir = positionals[0];
  if (!fs.existsSync(dir)) {
    io.err(`ringbus: no such directory: ${dir}\n`);
    return 1;
  }
  const dashboard = await serveDashboard(storageStats(dir), {
    port: Number(values.port),
    host: values.host,
    intervalMs: Number(values.interval),
    title: dir,
  });
  io.out(`ringbus dashboard for ${dir} (read-only) at ${dashboard.url}\n`);
  await new Promise<void>((resolve) => {
    if (signal === undefined || signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await dashboard.close();
  return 0;
}
