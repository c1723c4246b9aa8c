/**
 * The Prometheus text exposition format (version 0.0.4) for a bus's stats. No dependencies and
 * nothing platform-specific: serve its output on any HTTP server as
 * `text/plain; version=0.0.4; charset=utf-8`.
 *
 * @module
 */
import type { BusStats, GroupStats, TopicStats } from './types.js';

/** The content type of {@link prometheusText}'s output. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

interface Family<S> {
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly help: string;
  /** The sample's value, or `undefined` when this source does not report it. */
  readonly value: (s: S) => number | undefined;
}

/** Publishers waiting for room, where the engine reports it (`TopicStats` may carry `waitingPublishers`). */
function waitingPublishers(t: TopicStats): number | undefined {
  const w = (t as { readonly waitingPublishers?: unknown }).waitingPublishers;
  return typeof w === 'number' ? w : undefined;
}

const TOPIC_FAMILIES: readonly Family<TopicStats>[] = [
  { name: 'ringbus_topic_published_total', type: 'counter', help: 'Messages published to the topic.', value: (t) => t.published },
  { name: 'ringbus_topic_rejected_total', type: 'counter', help: 'Publishes refused (overflow reject, or grow at maxCapacity).', value: (t) => t.rejected },
  { name: 'ringbus_topic_dropped_total', type: 'counter', help: 'Messages evicted by drop-oldest while a group still needed them.', value: (t) => t.dropped },
  { name: 'ringbus_topic_expired_total', type: 'counter', help: 'Messages that expired (TTL).', value: (t) => t.expired },
  { name: 'ringbus_topic_dead_letter_dropped_total', type: 'counter', help: 'Dead letters with no dead-letter topic, or that it refused.', value: (t) => t.deadLetterDropped },
  { name: 'ringbus_topic_published_bytes_total', type: 'counter', help: 'Encoded bytes published (0 without a codec).', value: (t) => t.bytesPublished },
  { name: 'ringbus_topic_size', type: 'gauge', help: 'Messages retained now.', value: (t) => t.size },
  { name: 'ringbus_topic_capacity', type: 'gauge', help: 'Messages the topic can retain.', value: (t) => t.capacity },
  { name: 'ringbus_topic_bytes', type: 'gauge', help: 'Encoded bytes retained now (0 without a codec).', value: (t) => t.bytes },
  { name: 'ringbus_topic_head_offset', type: 'gauge', help: 'Oldest retained offset.', value: (t) => t.head },
  { name: 'ringbus_topic_tail_offset', type: 'gauge', help: 'Next offset to be published.', value: (t) => t.tail },
  { name: 'ringbus_topic_subscribers', type: 'gauge', help: 'Live consumers of every group.', value: (t) => t.subscribers },
  { name: 'ringbus_topic_waiting_publishers', type: 'gauge', help: 'Publishers waiting for room (overflow block).', value: waitingPublishers },
];

const GROUP_FAMILIES: readonly Family<GroupStats>[] = [
  { name: 'ringbus_group_lag', type: 'gauge', help: 'Messages published and not yet settled by the group (tail - committed).', value: (g) => g.lag },
  { name: 'ringbus_group_pending', type: 'gauge', help: 'Messages delivered to the group and not yet settled.', value: (g) => g.pending },
  { name: 'ringbus_group_members', type: 'gauge', help: 'Connected members of the group.', value: (g) => g.members },
  { name: 'ringbus_group_committed_offset', type: 'gauge', help: 'Every offset below this one is settled for the group.', value: (g) => g.committed },
  { name: 'ringbus_group_next_offset', type: 'gauge', help: 'Next offset never delivered to the group.', value: (g) => g.next },
  { name: 'ringbus_group_delivered_total', type: 'counter', help: 'Deliveries handed out, redeliveries included.', value: (g) => g.delivered },
  { name: 'ringbus_group_acked_total', type: 'counter', help: 'Deliveries acked.', value: (g) => g.acked },
  { name: 'ringbus_group_nacked_total', type: 'counter', help: 'Deliveries nacked.', value: (g) => g.nacked },
  { name: 'ringbus_group_redelivered_total', type: 'counter', help: 'Deliveries after the first of a message.', value: (g) => g.redelivered },
  { name: 'ringbus_group_dead_lettered_total', type: 'counter', help: 'Messages dead-lettered by the group.', value: (g) => g.deadLettered },
  { name: 'ringbus_group_missed_total', type: 'counter', help: 'Messages the group never got (evicted by drop-oldest, or skipped by seek).', value: (g) => g.missed },
  { name: 'ringbus_group_filtered_total', type: 'counter', help: "Messages settled because a consumer's filter rejected them.", value: (g) => g.filtered },
  { name: 'ringbus_group_expired_total', type: 'counter', help: 'Messages that expired before the group settled them.', value: (g) => g.expired },
];

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
 * Counters end in `_total`. A family no topic reports (`ringbus_topic_waiting_publishers`
 * on an engine without it) is left out. Label values are escaped, so any topic or group name
 * is safe.
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
      const v = f.value(t);
      if (v !== undefined) lines.push(`${f.name}{topic="${labelValue(t.name)}"} ${sampleValue(v)}`);
    }
    if (lines.length > 0) out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...lines);
  }
  for (const f of GROUP_FAMILIES) {
    const lines: string[] = [];
    for (const t of topics) {
      const topic = labelValue(t.name);
      for (const [group, g] of Object.entries(t.groups)) {
        const v = f.value(g);
        if (v !== undefined) lines.push(`${f.name}{topic="${topic}",group="${labelValue(group)}"} ${sampleValue(v)}`);
      }
    }
    if (lines.length > 0) out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...lines);
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
