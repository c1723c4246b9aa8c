import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Attributes } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, createBus } from '../../src/index.js';
import type { Bus, BusStats } from '../../src/index.js';
import { instrumentBus, OTEL_METRICS } from '../../src/otel/index.js';
import { busUnderWorkload } from './workload.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

/** Collects on demand only: no timer of its own. */
class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const providers: MeterProvider[] = [];
afterEach(async () => {
  for (const p of providers.splice(0)) await p.shutdown();
});

function sdk(temporality = AggregationTemporality.CUMULATIVE): { reader: PullReader; provider: MeterProvider } {
  const reader = new PullReader({ aggregationTemporalitySelector: () => temporality });
  const provider = new MeterProvider({ readers: [reader] });
  providers.push(provider);
  return { reader, provider };
}

function key(name: string, a: Attributes): string {
  return `${name}${JSON.stringify(a)}`;
}

/** `name{attributes}` → value of every ringbus data point collected. */
function points(rm: ResourceMetrics): Map<string, number> {
  const out = new Map<string, number>();
  for (const scope of rm.scopeMetrics) {
    for (const m of scope.metrics) {
      for (const p of m.dataPoints) out.set(key(m.descriptor.name, p.attributes), p.value as number);
    }
  }
  return out;
}

/** What the reader must hold for `stats`. */
function expected(stats: BusStats): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of Object.values(stats.topics)) {
    const ta = { 'messaging.system': 'ringbus', 'messaging.destination.name': t.name };
    const topic: Record<string, number> = {
      size: t.size, capacity: t.capacity, bytes: t.bytes, subscribers: t.subscribers, published: t.published,
      published_bytes: t.bytesPublished, rejected: t.rejected, dropped: t.dropped, expired: t.expired,
      dead_letter_dropped: t.deadLetterDropped, head_offset: t.head, tail_offset: t.tail,
      aged_out: t.agedOut, waiting_publishers: t.waitingPublishers,
    };
    for (const [n, value] of Object.entries(topic)) out.set(key(`ringbus.topic.${n}`, ta), value);
    for (const [group, g] of Object.entries(t.groups)) {
      const ga = { ...ta, 'messaging.consumer.group.name': group };
      const fig: Record<string, number> = {
        lag: g.lag, pending: g.pending, members: g.members, delivered: g.delivered, acked: g.acked, nacked: g.nacked,
        redelivered: g.redelivered, dead_lettered: g.deadLettered, missed: g.missed, filtered: g.filtered, expired: g.expired,
        committed_offset: g.committed, next_offset: g.next,
      };
      for (const [n, value] of Object.entries(fig)) out.set(key(`ringbus.group.${n}`, ga), value);
    }
  }
  return out;
}

/** The bus, with every `stats()` snapshot it hands out recorded. */
function recording(bus: Bus): { bus: Bus; snapshots: BusStats[] } {
  const snapshots: BusStats[] = [];
  const proxy = new Proxy(bus, {
    get(target, prop, receiver) {
      if (prop === 'stats') return () => { const s = target.stats(); snapshots.push(s); return s; };
      return Reflect.get(target, prop, receiver);
    },
  });
  return { bus: proxy, snapshots };
}

describe('instrumentBus', () => {
  it('reports exactly bus.stats() at collection, per topic and group, with messaging attributes', async () => {
    const bus = await busUnderWorkload();
    const { reader, provider } = sdk();
    instrumentBus(bus, { meter: provider.getMeter('test') });
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    const got = points(resourceMetrics);
    expect(got).toEqual(expected(bus.stats()));
    expect(got.get(key('ringbus.group.dead_lettered', { 'messaging.system': 'ringbus', 'messaging.destination.name': 'orders', 'messaging.consumer.group.name': 'billing' }))).toBeGreaterThan(0);
    await bus.close();
  });

  it('under a running workload each collection equals the snapshot it read, and counters never go back', async () => {
    const { bus, snapshots } = recording(createBus());
    const jobs = bus.topic<number>('jobs', { capacity: 64, groups: ['workers', 'audit'] });
    const { reader, provider } = sdk();
    instrumentBus(bus, { meter: provider.getMeter('test') });
    let running = true;
    const producer = (async () => {
      for (let i = 0; running; i++) {
        await jobs.publish(i);
        if (i % 16 === 0) await new Promise((r) => setImmediate(r));
      }
    })();
    const sub = jobs.messages({ group: 'workers' }).subscribe((d) => (d.value % 5 === 0 && !d.redelivered ? d.nack() : d.ack()));
    const auditor = jobs.consumer({ group: 'audit' });
    const audit = (async () => {
      for await (const d of auditor) d.ack();
    })();
    let previous = 0;
    for (let round = 0; round < 20; round++) {
      await new Promise((r) => setTimeout(r, 5));
      const before = snapshots.length;
      const { resourceMetrics, errors } = await reader.collect();
      expect(errors).toEqual([]);
      expect(snapshots.length).toBe(before + 1);
      const got = points(resourceMetrics);
      expect(got).toEqual(expected(snapshots[before]));
      const published = got.get(key('ringbus.topic.published', { 'messaging.system': 'ringbus', 'messaging.destination.name': 'jobs' }))!;
      expect(published).toBeGreaterThanOrEqual(previous);
      previous = published;
    }
    expect(previous).toBeGreaterThan(0);
    running = false;
    await producer;
    sub.unsubscribe();
    auditor.close();
    await audit;
    await bus.close();
  });

  it('observes topics created after it was attached, and the given attributes', async () => {
    const bus = createBus();
    const { reader, provider } = sdk();
    instrumentBus(bus, { meter: provider.getMeter('test'), attributes: { 'service.instance.id': 'a-1' } });
    expect(points((await reader.collect()).resourceMetrics).size).toBe(0);
    const t = bus.topic<string>('late', { groups: ['g'] });
    await t.publish('x');
    const got = points((await reader.collect()).resourceMetrics);
    const attrs = { 'service.instance.id': 'a-1', 'messaging.system': 'ringbus', 'messaging.destination.name': 'late' };
    expect(got.get(key('ringbus.topic.published', attrs))).toBe(1);
    expect(got.get(key('ringbus.group.lag', { ...attrs, 'messaging.consumer.group.name': 'g' }))).toBe(1);
    await bus.close();
  });

  it('registers the instruments OTEL_METRICS lists, with their kinds and units', async () => {
    const bus = await busUnderWorkload();
    const { reader, provider } = sdk();
    instrumentBus(bus, { meter: provider.getMeter('test') });
    const { resourceMetrics } = await reader.collect();
    const descriptors = new Map(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]));
    for (const m of OTEL_METRICS) {
      const d = descriptors.get(m.name);
      expect(d, m.name).toBeDefined();
      expect(d!.descriptor.unit).toBe(m.unit);
      if (m.kind === 'gauge') expect(d!.dataPointType).toBe(DataPointType.GAUGE);
      else expect(d!.dataPointType === DataPointType.SUM && d!.isMonotonic).toBe(true);
    }
    await bus.close();
  });

  it('stop() removes the callback: stats are no longer read, and a delta reader reports nothing', async () => {
    const { bus, snapshots } = recording(await busUnderWorkload());
    const { reader, provider } = sdk(AggregationTemporality.DELTA);
    const handle = instrumentBus(bus, { meter: provider.getMeter('test') });
    expect(points((await reader.collect()).resourceMetrics).size).toBeGreaterThan(0);
    handle.stop();
    handle.stop();
    const read = snapshots.length;
    await bus.topic<number>('orders').publish(99);
    expect(points((await reader.collect()).resourceMetrics).size).toBe(0);
    expect(snapshots.length).toBe(read);
    await bus.close();
  });

  it('after stop() a cumulative reader only repeats the last values it saw', async () => {
    const bus = await busUnderWorkload();
    const { reader, provider } = sdk();
    const handle = instrumentBus(bus, { meter: provider.getMeter('test') });
    const last = points((await reader.collect()).resourceMetrics);
    handle.stop();
    await bus.topic<number>('orders').publish(99);
    const after = points((await reader.collect()).resourceMetrics);
    for (const [k, value] of after) expect(last.get(k), k).toBe(value);
    await bus.close();
  });

  it('refuses a missing meter, a bad attributes object and unknown options with ConfigError', () => {
    const bus = createBus();
    const meter = sdk().provider.getMeter('test');
    expect(() => instrumentBus(bus, {} as never)).toThrow(ConfigError);
    expect(() => instrumentBus(bus, { meter: {} as never })).toThrow(/`meter` must be an OpenTelemetry Meter/);
    expect(() => instrumentBus(bus, { meter, attributes: 3 as never })).toThrow(ConfigError);
    expect(() => instrumentBus(bus, { meter, interval: 1 } as never)).toThrow(/`interval` is not an option/);
    expect(() => instrumentBus(undefined as never, { meter })).toThrow(ConfigError);
  });

  it('leaves no timer or handle: a process that instruments, collects and stops exits on its own', async () => {
    const script = [
      "import { createBus } from './src/index.ts';",
      "import { instrumentBus } from './src/otel/index.ts';",
      "import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';",
      'class R extends MetricReader { async onForceFlush() {} async onShutdown() {} }',
      'const reader = new R(); const provider = new MeterProvider({ readers: [reader] });',
      "const bus = createBus(); const t = bus.topic('t', { groups: ['g'] });",
      "const h = instrumentBus(bus, { meter: provider.getMeter('x') });",
      "await t.publish(1); const r = await reader.collect(); h.stop();",
      "console.log(r.resourceMetrics.scopeMetrics[0].metrics.length > 0 ? 'collected' : 'empty');",
    ].join('\n');
    const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=ringbus-source', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      timeout: 15_000,
    });
    expect(stdout.trim()).toBe('collected');
  });
});
