import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { ConfigError, createBus, prometheusText } from '../../src/index.js';
import type { BusStats } from '../../src/index.js';
import { serveDashboard } from '../../src/node/index.js';
import { bundleChild } from '../bundle.js';
import { busUnderWorkload } from '../otel/workload.js';
import { readEvents } from './sse.js';


describe('serveDashboard', () => {
  it('serves the page, uPlot from the installed package, /metrics and /stats', async () => {
    const bus = await busUnderWorkload();
    const dashboard = await serveDashboard(bus, { title: 'orders <service>' });
    try {
      expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = await fetch(dashboard.url);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const html = await page.text();
      expect(html).toContain('<script src="uplot.js"></script>');
      expect(html).toContain('orders &#60;service&#62;');
      expect(html).not.toContain('orders <service>');
      const js = await fetch(new URL('uplot.js', dashboard.url));
      expect(js.status).toBe(200);
      expect(await js.text()).toMatch(/uPlot/);
      expect((await fetch(new URL('uplot.css', dashboard.url))).status).toBe(200);
      const metrics = await fetch(new URL('metrics', dashboard.url));
      expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const text = await metrics.text();
      expect(text).toBe(prometheusText(bus.stats()));
      expect(parsePrometheusTextFormat(text).length).toBeGreaterThan(10);
      const stats = (await (await fetch(new URL('stats', dashboard.url))).json()) as BusStats;
      expect(stats.topics).toEqual(bus.stats().topics);
      expect((await fetch(new URL('nothing', dashboard.url))).status).toBe(404);
      expect((await fetch(dashboard.url, { method: 'POST' })).status).toBe(405);
    } finally {
      await dashboard.close();
      await bus.close();
    }
  });

  it('streams stats samples as Server-Sent Events that follow the bus', async () => {
    const bus = createBus();
    const jobs = bus.topic<number>('jobs', { groups: ['workers'] });
    const dashboard = await serveDashboard(bus, { intervalMs: 20 });
    let running = true;
    const producer = (async () => {
      for (let i = 0; running; i++) {
        await jobs.publish(i);
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    try {
      const events = await readEvents(new URL('events', dashboard.url).href, 5);
      expect(events).toHaveLength(5);
      const samples = events.map((e) => JSON.parse(e.data) as BusStats);
      const ids = events.map((e) => Number(e.id));
      for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]);
      for (let i = 1; i < samples.length; i++) {
        expect(samples[i].timestamp).toBeGreaterThanOrEqual(samples[i - 1].timestamp);
        expect(samples[i].topics.jobs.published).toBeGreaterThanOrEqual(samples[i - 1].topics.jobs.published);
      }
      expect(samples.at(-1)!.topics.jobs.published).toBeGreaterThan(samples[0].topics.jobs.published);
      expect(samples.at(-1)!.topics.jobs.groups.workers.lag).toBeGreaterThan(0);
    } finally {
      running = false;
      await producer;
      await dashboard.close();
      await bus.close();
    }
  });

  it('close() ends open event streams, stops sampling and closes the port; it is idempotent', async () => {
    let reads = 0;
    const bus = createBus();
    const source = { stats: () => (reads++, bus.stats()) };
    const dashboard = await serveDashboard(source, { intervalMs: 10 });
    const res = await fetch(new URL('events', dashboard.url));
    const reader = res.body!.getReader();
    await reader.read();
    await Promise.all([dashboard.close(), dashboard.close()]);
    for (;;) if ((await reader.read()).done) break;
    const after = reads;
    await new Promise((r) => setTimeout(r, 50));
    expect(reads).toBe(after);
    await expect(fetch(dashboard.url)).rejects.toThrow();
  });

  it('a stats() that throws becomes a stats-error event; the stream and the server go on', async () => {
    const bus = createBus();
    bus.topic('t');
    let calls = 0;
    const source = {
      stats: () => {
        calls++;
        if (calls === 2) throw new Error('segment vanished');
        return bus.stats();
      },
    };
    const dashboard = await serveDashboard(source, { intervalMs: 10 });
    try {
      const res = await fetch(new URL('events', dashboard.url));
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      while ((text.match(/\n\n/g) ?? []).length < 3) text += (await reader.read()).value;
      await reader.cancel();
      const blocks = text.split('\n\n');
      expect(blocks[0]).toMatch(/^retry: \d+\nid: 0\ndata: \{/);
      expect(blocks[1]).toBe('event: stats-error\ndata: "segment vanished"');
      expect(blocks[2]).toMatch(/^id: 1\ndata: \{/);
      expect((await fetch(new URL('metrics', dashboard.url))).status).toBe(200);
    } finally {
      await dashboard.close();
    }
  });

  it('rejects bad options with ConfigError and a taken port with the listen error, never throwing', async () => {
    const bus = createBus();
    await expect(serveDashboard(bus, { port: 70_000 })).rejects.toThrow(ConfigError);
    await expect(serveDashboard(bus, { port: -1 })).rejects.toThrow(/`port` must be an integer from 0 to 65535/);
    await expect(serveDashboard(bus, { intervalMs: 0 })).rejects.toThrow(ConfigError);
    await expect(serveDashboard(bus, { colour: 'red' } as never)).rejects.toThrow(/`colour` is not an option/);
    await expect(serveDashboard(null as never)).rejects.toThrow(ConfigError);
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      await expect(serveDashboard(bus, { port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });

  it('leaves no timer or socket: a process that serves, streams and closes exits on its own', async () => {
    const child = await bundleChild(fileURLToPath(new URL('./fixtures/serve-close-child.ts', import.meta.url)));
    const { stdout } = await promisify(execFile)(process.execPath, [child], { timeout: 15_000 });
    expect(stdout.trim()).toBe('closed');
  });
});
