import type { ConsumerInfo, StreamInfo } from '@nats-io/jetstream';
import type { GroupStats, TopicStats } from '../types.js';
import { decodeName, type NatsTopicConfig } from './config.js';
import type { Evictions } from './evictions.js';
import { type GroupState, settledBelow } from './group.js';

/** What this process counts of a topic (JetStream keeps no such counters). */
export interface LocalCounts {
  rejected: number;
  /** Messages this process deleted from the head to make room. */
  deleted: number;
  waiting: number;
  deadLetterDropped: number;
}

/** The stream's head as an offset: the oldest retained offset (the tail when empty). */
export function headOf(info: StreamInfo): number {
  return info.state.messages === 0 ? info.state.last_seq : info.state.first_seq - 1;
}

/** What a topic's figures are made of: the server's snapshot and this process's counts. */
export interface StatsParts {
  readonly name: string;
  readonly config: NatsTopicConfig;
  /** The capacity now (under `grow`, as this process last derived it). */
  readonly capacity: number;
  readonly info: StreamInfo;
  readonly consumers: readonly ConsumerInfo[];
  readonly groups: ReadonlyMap<string, GroupState>;
  readonly local: LocalCounts;
  /** Under `drop-oldest`: what the stream evicted before groups settled it. */
  readonly evictions: Evictions | undefined;
}

export function statsOf(p: StatsParts): TopicStats {
  const { info, groups, local, evictions } = p;
  const tail = info.state.last_seq;
  const head = headOf(info);
  const out: Record<string, GroupStats> = {};
  let subscribers = 0;
  for (const g of groups.values()) subscribers += g.members.size;
  for (const c of p.consumers) {
    const durable = c.name.startsWith('g-');
    if (!durable && !c.name.startsWith('p-')) continue;
    const group = decodeName(c.name.slice(2));
    const g = groups.get(group);
    const committed = Math.max(head, settledBelow(c));
    out[group] = {
      members: g?.members.size ?? 0,
      next: Math.max(committed, c.delivered.stream_seq),
      committed,
      pending: c.num_ack_pending,
      lag: tail - committed,
      delivered: c.delivered.consumer_seq,
      acked: g?.acked ?? 0,
      nacked: g?.nacked ?? 0,
      redelivered: g?.redelivered ?? 0,
      deadLettered: g?.deadLettered ?? 0,
      missed: (g?.missed ?? 0) + (evictions?.missed.get(c.name) ?? 0),
      filtered: 0,
      expired: g?.expired ?? 0,
      durable,
    };
  }
  const dropped = evictions?.dropped ?? 0;
  return {
    name: p.name,
    capacity: p.capacity,
    size: info.state.messages,
    head,
    tail,
    published: tail,
    rejected: local.rejected,
    dropped,
    // what left the head that this process did not delete for room, nor counted as dropped
    expired: p.config.ttlMs === null ? 0 : Math.max(0, head - local.deleted - dropped),
    agedOut: 0,
    waitingPublishers: local.waiting,
    deadLetterDropped: local.deadLetterDropped,
    subscribers,
    bytes: info.state.bytes,
    bytesPublished: 0,
    closed: info.config.sealed === true,
    groups: out,
  };
}
