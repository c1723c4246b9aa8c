/**
 * The Prometheus text exposition format (version 0.0.4) for a bus's stats. No dependencies and
 * nothing platform-specific: serve its output on any HTTP server as
 * `text/plain; version=0.0.4; charset=utf-8`.
 *
 * @module
 */
import { GROUP_FIGURES, TOPIC_FIGURES, type Figure } from './internal/stat-figures.js';
import type { BusStats } from './types.js';

/** The content type of {@link prometheusText}'s output. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

interface Family<S> {
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly help: string;
  readonly value: (s: S) => number;
}

function family<S>(scope: 'topic' | 'group', f: Figure<S>): Family<S> {
  return { name: `ringbus_${scope}_${f.key}${f.kind === 'counter' ? '_total' : ''}`, type: f.kind, help: f.help, value: f.value };
}

const TOPIC_FAMILIES = TOPIC_FIGURES.map((f) => family('topic', f));
const GROUP_FAMILIES = GROUP_FIGURES.map((f) => family('group', f));

/** The metric families {@link prometheusText} writes, with their type and help (for docs and dashboards). */
export const PROMETHEUS_METRICS: readonly { readonly name: string; readonly type: 'counter' | 'gauge'; readonly help: string; readonly labels: readonly string[] }[] = [
  ...TOPIC_FAMILIES.map(({ name, type, help }) => ({ name, type, help, labels: ['topic'] })),
  ...GROUP_FAMILIES.map(({ name, type, help }) => ({ name, type, help, labels: ['topic', 'group'] })),
];

/** A label value: backslash, double quote and line feed escaped, as the format requires. */
function labelValue(s: string): string {
  return s.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

function sampleValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

/**
 * Writes a bus's stats in the Prometheus text exposition format: one family per figure, each
 * with `# HELP` and `# TYPE`, topics labelled `topic`, groups labelled `topic` and `group`.
 * Counters end in `_total`; a family with no sample (group figures on a bus without groups) is
 * left out. Label values are escaped, so any topic or group name is safe.
 *
 * @param stats - A snapshot, usually `bus.stats()`.
 * @returns The exposition text, ending in a line feed.
 * @example
 * ```ts
 * import { createBus, prometheusText } from 'ringbus';
 *
 * const bus = createBus();
 * const orders = bus.topic<string>('orders', { groups: ['billing'] });
 * await orders.publish('o-1');
 * const text = prometheusText(bus.stats());
 * // # HELP ringbus_topic_published_total Messages published to the topic.
 * // # TYPE ringbus_topic_published_total counter
 * // ringbus_topic_published_total{topic="orders"} 1
 * ```
 */
export function prometheusText(stats: BusStats): string {
  const topics = Object.values(stats.topics);
  const out: string[] = [];
  for (const f of TOPIC_FAMILIES) {
    const lines: string[] = [];
    for (const t of topics) {
      lines.push(`${f.name}{topic="${labelValue(t.name)}"} ${sampleValue(f.value(t))}`);
    }
    if (lines.length > 0) out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...lines);
  }
  for (const f of GROUP_FAMILIES) {
    const lines: string[] = [];
    for (const t of topics) {
      const topic = labelValue(t.name);
      for (const [group, g] of Object.entries(t.groups)) {
        lines.push(`${f.name}{topic="${topic}",group="${labelValue(group)}"} ${sampleValue(f.value(g))}`);
      }
    }
    if (lines.length > 0) out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...lines);
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
