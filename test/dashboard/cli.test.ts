import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, describe, expect, it } from 'vitest';
import { createBus } from '../../src/index.js';
import type { BusStats } from '../../src/index.js';
import { main } from '../../src/node/cli.js';
import { fileStorage, inspectStorage } from '../../src/node/index.js';
import { cleanTempDirs, tempDir } from '../node/helpers.js';
import { readEvents } from './sse.js';

afterAll(cleanTempDirs);

function capture(): { io: { out: (s: string) => void; err: (s: string) => void; tty: boolean }; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s) => out.push(s), err: (s) => err.push(s), tty: false }, out, err };
}

async function waitFor<T>(f: () => T | undefined): Promise<T> {
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('ringbus dashboard <dir>', () => {
  it('serves a storage directory read-only while another process writes it, until stopped', async () => {
    const dir = tempDir();
    const bus = createBus({ storage: fileStorage(dir) });
    const jobs = bus.topic<number>('jobs', { groups: ['workers'] });
    for (let i = 0; i < 10; i++) await jobs.publish(i);
    const c = jobs.consumer({ group: 'workers' });
    for (let i = 0; i < 4; i++) (await c.recv())!.ack();
    await c.recv(); // held: unsettled
    // the acks reach the group journal in the background: read the directory once they have
    await waitFor(() => (inspectStorage(dir).topics.find((t) => t.topic === 'jobs')?.groups[0]?.committed === 4 ? true : undefined));

    const { io, out, err } = capture();
    const stop = new AbortController();
    const exit = main(['dashboard', dir, '--interval', '50'], io, stop.signal);
    const line = await waitFor(() => out.find((l) => l.includes('http://')));
    const url = /(http:\/\/\S+)/.exec(line)![1];
    expect(line).toContain('read-only');

    const stats = (await (await fetch(new URL('stats', url))).json()) as BusStats;
    const inspected = inspectStorage(dir).topics.find((t) => t.topic === 'jobs')!;
    expect(stats.topics.jobs.tail).toBe(10);
    expect(stats.topics.jobs.head).toBe(inspected.head);
    expect(stats.topics.jobs.size).toBe(inspected.tail - inspected.head);
    expect(stats.topics.jobs.groups.workers.lag).toBe(inspected.groups[0].lag);
    expect(stats.topics.jobs.groups.workers.committed).toBe(inspected.groups[0].committed);
    expect(stats.topics.jobs.groups.workers.pending).toBe(inspected.groups[0].unsettledDeliveries);
    // a figure only a live bus knows is not invented
    expect(stats.topics.jobs.groups.workers.acked).toBeNull();

    // the writer keeps going; the dashboard follows
    for (let i = 10; i < 15; i++) await jobs.publish(i);
    const events = await readEvents(new URL('events', url).href, 3);
    const last = JSON.parse(events.at(-1)!.data) as BusStats;
    expect(last.topics.jobs.tail).toBe(15);

    const families = parsePrometheusTextFormat(await (await fetch(new URL('metrics', url))).text());
    const lag = families.find((f) => f.name === 'ringbus_group_lag')!;
    expect(lag.metrics[0]).toEqual({ value: String(inspectStorage(dir).topics[0].groups[0].lag), labels: { topic: 'jobs', group: 'workers' } });

    stop.abort();
    expect(await exit).toBe(0);
    expect(err).toEqual([]);
    await expect(fetch(url)).rejects.toThrow();
    c.close();
    await bus.close();
  });

  it('reports a missing directory and bad arguments', async () => {
    const a = capture();
    expect(await main(['dashboard', '/nonexistent/ringbus'], a.io)).toBe(1);
    expect(a.err.join('')).toContain('no such directory');
    const b = capture();
    expect(await main(['dashboard'], b.io)).toBe(2);
    expect(b.err.join('')).toContain('dashboard needs <dir>');
    const c = capture();
    expect(await main(['dashboard', tempDir(), '--colour', 'red'], c.io)).toBe(2);
    const d = capture();
    expect(await main(['dashboard', tempDir(), '--port', 'x'], d.io)).toBe(1);
    expect(d.err.join('')).toContain('`port` must be an integer');
  });
});
