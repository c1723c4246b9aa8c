import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { PROMETHEUS_METRICS, prometheusText } from '../../src/index.js';
import type { BusStats, GroupStats, TopicStats } from '../../src/index.js';
import { EXPOSITION_RUNS, SEED } from '../reliability/config.js';
import { busUnderWorkload } from './workload.js';

type Families = ReturnType<typeof parsePrometheusTextFormat>;

/** Prometheus's own linter (Debian's `prometheus` package); required under CI=true, which .ci/run installs. */
const PROMTOOL = spawnSync('promtool', ['--version']).status === 0;
if (!PROMTOOL && process.env.CI !== 'true') {
  console.warn('test/otel/prometheus.test.ts: promtool lint skipped, promtool is missing (apt-get install prometheus)');
}

function promtool(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function fromSample(v: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return Number(v);
}

/** `family{labels}` → value, from the parsed exposition. */
function samples(families: Families): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of families) {
    for (const m of f.metrics) {
      const key = `${f.name}${JSON.stringify(m.labels ?? {})}`;
      expect(out.has(key), `duplicate sample ${key}`).toBe(false);
      out.set(key, fromSample(m.value));
    }
  }
  return out;
}

const TOPIC_FIGURES: Record<string, (t: TopicStats) => number> = {
  ringbus_topic_published_total: (t) => t.published,
  ringbus_topic_rejected_total: (t) => t.rejected,
  ringbus_topic_dropped_total: (t) => t.dropped,
  ringbus_topic_expired_total: (t) => t.expired,
  ringbus_topic_aged_out_total: (t) => t.agedOut,
  ringbus_topic_dead_letter_dropped_total: (t) => t.deadLetterDropped,
  ringbus_topic_published_bytes_total: (t) => t.bytesPublished,
  ringbus_topic_size: (t) => t.size,
  ringbus_topic_capacity: (t) => t.capacity,
  ringbus_topic_bytes: (t) => t.bytes,
  ringbus_topic_head_offset: (t) => t.head,
  ringbus_topic_tail_offset: (t) => t.tail,
  ringbus_topic_subscribers: (t) => t.subscribers,
  ringbus_topic_waiting_publishers: (t) => t.waitingPublishers,
};

const GROUP_FIGURES: Record<string, (g: GroupStats) => number> = {
  ringbus_group_lag: (g) => g.lag,
  ringbus_group_pending: (g) => g.pending,
  ringbus_group_members: (g) => g.members,
  ringbus_group_committed_offset: (g) => g.committed,
  ringbus_group_next_offset: (g) => g.next,
  ringbus_group_delivered_total: (g) => g.delivered,
  ringbus_group_acked_total: (g) => g.acked,
  ringbus_group_nacked_total: (g) => g.nacked,
  ringbus_group_redelivered_total: (g) => g.redelivered,
  ringbus_group_dead_lettered_total: (g) => g.deadLettered,
  ringbus_group_missed_total: (g) => g.missed,
  ringbus_group_filtered_total: (g) => g.filtered,
  ringbus_group_expired_total: (g) => g.expired,
};

/** What the exposition must hold for `stats`, keyed like {@link samples}. */
function expected(stats: BusStats): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of Object.values(stats.topics)) {
    for (const [name, f] of Object.entries(TOPIC_FIGURES)) out.set(`${name}${JSON.stringify({ topic: t.name })}`, f(t));
    for (const [group, g] of Object.entries(t.groups)) {
      for (const [name, f] of Object.entries(GROUP_FIGURES)) out.set(`${name}${JSON.stringify({ topic: t.name, group })}`, f(g));
    }
  }
  return out;
}

describe('prometheusText', () => {
  it('parses, and every sample equals the figure of bus.stats() it names', async () => {
    const bus = await busUnderWorkload();
    const stats = bus.stats();
    const families = parsePrometheusTextFormat(prometheusText(stats));
    expect(samples(families)).toEqual(expected(stats));
    // the workload makes the figures non-trivial
    const got = samples(families);
    expect(got.get('ringbus_group_dead_lettered_total{"topic":"orders","group":"billing"}')).toBeGreaterThan(0);
    expect(got.get('ringbus_group_missed_total{"topic":"orders","group":"audit"}')).toBeGreaterThan(0);
    expect(got.get('ringbus_group_redelivered_total{"topic":"orders","group":"billing"}')).toBeGreaterThan(0);
    expect(got.get('ringbus_topic_waiting_publishers{"topic":"jobs"}')).toBe(1);
    await bus.close();
  });

  it('writes HELP and TYPE once per family, counters ending in _total, as listed in PROMETHEUS_METRICS', async () => {
    const bus = await busUnderWorkload();
    const text = prometheusText(bus.stats());
    const families = parsePrometheusTextFormat(text);
    const listed = new Map(PROMETHEUS_METRICS.map((m) => [m.name, m]));
    for (const f of families) {
      const m = listed.get(f.name);
      expect(m, f.name).toBeDefined();
      expect(f.type).toBe(m!.type.toUpperCase());
      expect(f.help).toBe(m!.help);
      expect(f.name.endsWith('_total')).toBe(f.type === 'COUNTER');
      expect(text.split(`# TYPE ${f.name} `).length - 1).toBe(1);
      expect(text.split(`# HELP ${f.name} `).length - 1).toBe(1);
      for (const s of f.metrics) expect(Object.keys(s.labels ?? {})).toEqual(m!.labels);
    }
    expect(text.endsWith('\n')).toBe(true);
    await bus.close();
  });

  it.skipIf(!PROMTOOL && process.env.CI !== 'true')('passes promtool check metrics with no lint finding, hostile names included', async () => {
    expect(PROMTOOL, 'CI=true and promtool is missing: apt-get install prometheus (.ci/run does)').toBe(true);
    const bus = await busUnderWorkload();
    const stats = bus.stats();
    expect(promtool(prometheusText(stats))).toEqual({ status: 0, output: '' });
    const name = 'a "quoted" \\back\\slash\nnew line ✓ 🚀';
    const hostile = { ...stats.topics.orders, name, groups: { [name]: stats.topics.orders.groups.billing } };
    expect(promtool(prometheusText({ timestamp: 0, topics: { [name]: hostile } }))).toEqual({ status: 0, output: '' });
    // the linter is live: a line feed left unescaped is refused
    expect(promtool('x{a="\n"} 1\n').status).not.toBe(0);
    await bus.close();
  });

  it('writes an empty exposition for a bus without topics', () => {
    expect(prometheusText({ timestamp: 0, topics: {} })).toBe('');
  });

  it('writes infinite and NaN figures as the format spells them', async () => {
    const bus = await busUnderWorkload();
    const stats = bus.stats();
    const orders = { ...stats.topics.orders, capacity: Infinity, bytes: NaN };
    const text = prometheusText({ ...stats, topics: { orders } });
    expect(text).toContain('ringbus_topic_capacity{topic="orders"} +Inf\n');
    expect(text).toContain('ringbus_topic_bytes{topic="orders"} NaN\n');
    const got = samples(parsePrometheusTextFormat(text));
    expect(got.get('ringbus_topic_capacity{"topic":"orders"}')).toBe(Infinity);
    await bus.close();
  });

  it('any topic and group name (quotes, backslashes, line feeds, unicode) parses back to itself', async () => {
    const bus = await busUnderWorkload();
    const base = bus.stats().topics.orders;
    const hostile = fc.oneof(
      fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\r', '\t', '{', '}', ',', '=', ' ', '#', 'n', 'é', '🚀', '\u2028', '\0') }),
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: 'binary' }),
    );
    const names = fc.uniqueArray(hostile, { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(names, names, (topicNames, groupNames) => {
        const topics: Record<string, TopicStats> = {};
        topicNames.forEach((name, i) => {
          const groups: Record<string, GroupStats> = {};
          groupNames.forEach((g, j) => (groups[g] = { ...base.groups.billing, lag: i * 100 + j }));
          topics[name] = { ...base, name, published: i, groups };
        });
        const stats: BusStats = { timestamp: 0, topics };
        expect(samples(parsePrometheusTextFormat(prometheusText(stats)))).toEqual(expected(stats));
      }),
      { numRuns: EXPOSITION_RUNS, seed: SEED },
    );
    await bus.close();
  });
});
