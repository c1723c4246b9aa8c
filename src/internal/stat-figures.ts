/**
 * The figures of `TopicStats` and `GroupStats` that monitoring exports, in one list: the
 * Prometheus text (`ringbus_topic_<key>`, counters with `_total`) and the OpenTelemetry
 * instruments (`ringbus.topic.<key>`) are both written from it.
 */
import type { GroupStats, TopicStats } from '../types.js';

export interface Figure<S> {
  /** The name's last part, e.g. `published`, `dead_lettered`. */
  readonly key: string;
  readonly kind: 'counter' | 'gauge';
  /** An OpenTelemetry (UCUM) unit: `{message}`, `By`, … */
  readonly unit: string;
  readonly help: string;
  readonly value: (s: S) => number;
}

export const TOPIC_FIGURES: readonly Figure<TopicStats>[] = [
  { key: 'published', kind: 'counter', unit: '{message}', help: 'Messages published to the topic.', value: (t) => t.published },
  { key: 'rejected', kind: 'counter', unit: '{message}', help: 'Publishes refused (overflow reject, or grow at maxCapacity).', value: (t) => t.rejected },
  { key: 'dropped', kind: 'counter', unit: '{message}', help: 'Messages evicted by drop-oldest while a group still needed them.', value: (t) => t.dropped },
  { key: 'expired', kind: 'counter', unit: '{message}', help: 'Messages removed by TTL.', value: (t) => t.expired },
  { key: 'aged_out', kind: 'counter', unit: '{message}', help: 'The part of expired that no group needed any more (kept only for replay).', value: (t) => t.agedOut },
  { key: 'dead_letter_dropped', kind: 'counter', unit: '{message}', help: 'Dead letters with no dead-letter topic, or that it refused.', value: (t) => t.deadLetterDropped },
  { key: 'published_bytes', kind: 'counter', unit: 'By', help: 'Encoded bytes published (0 without a codec).', value: (t) => t.bytesPublished },
  { key: 'size', kind: 'gauge', unit: '{message}', help: 'Messages retained now.', value: (t) => t.size },
  { key: 'capacity', kind: 'gauge', unit: '{message}', help: 'Messages the topic can retain.', value: (t) => t.capacity },
  { key: 'bytes', kind: 'gauge', unit: 'By', help: 'Encoded bytes retained now (0 without a codec).', value: (t) => t.bytes },
  { key: 'head_offset', kind: 'gauge', unit: '{offset}', help: 'Oldest retained offset.', value: (t) => t.head },
  { key: 'tail_offset', kind: 'gauge', unit: '{offset}', help: 'Next offset to be published.', value: (t) => t.tail },
  { key: 'subscribers', kind: 'gauge', unit: '{consumer}', help: 'Live consumers of every group.', value: (t) => t.subscribers },
  { key: 'waiting_publishers', kind: 'gauge', unit: '{publisher}', help: 'publish calls waiting for room (overflow block).', value: (t) => t.waitingPublishers },
];

export const GROUP_FIGURES: readonly Figure<GroupStats>[] = [
  { key: 'lag', kind: 'gauge', unit: '{message}', help: 'Messages published and not yet settled by the group (tail - committed).', value: (g) => g.lag },
  { key: 'pending', kind: 'gauge', unit: '{message}', help: 'Messages delivered to the group and not yet settled.', value: (g) => g.pending },
  { key: 'members', kind: 'gauge', unit: '{consumer}', help: 'Connected members of the group.', value: (g) => g.members },
  { key: 'committed_offset', kind: 'gauge', unit: '{offset}', help: 'Every offset below this one is settled for the group.', value: (g) => g.committed },
  { key: 'next_offset', kind: 'gauge', unit: '{offset}', help: 'Next offset never delivered to the group.', value: (g) => g.next },
  { key: 'delivered', kind: 'counter', unit: '{message}', help: 'Deliveries handed out, redeliveries included.', value: (g) => g.delivered },
  { key: 'acked', kind: 'counter', unit: '{message}', help: 'Deliveries acked.', value: (g) => g.acked },
  { key: 'nacked', kind: 'counter', unit: '{message}', help: 'Deliveries nacked.', value: (g) => g.nacked },
  { key: 'redelivered', kind: 'counter', unit: '{message}', help: 'Deliveries after the first of a message.', value: (g) => g.redelivered },
  { key: 'dead_lettered', kind: 'counter', unit: '{message}', help: 'Messages dead-lettered by the group.', value: (g) => g.deadLettered },
  { key: 'missed', kind: 'counter', unit: '{message}', help: 'Messages the group never got (evicted by drop-oldest, or skipped by seek).', value: (g) => g.missed },
  { key: 'filtered', kind: 'counter', unit: '{message}', help: "Messages settled because a consumer's filter rejected them.", value: (g) => g.filtered },
  { key: 'expired', kind: 'counter', unit: '{message}', help: 'Messages that expired before the group settled them.', value: (g) => g.expired },
];
