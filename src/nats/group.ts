import type { ConsumerInfo, JetStreamApiError } from '@nats-io/jetstream';
import type { MemberOptions } from '../engine.js';
import type { TopicStats } from '../types.js';
import { encodeName, type NatsTopicConfig } from './config.js';
import type { Evictions } from './evictions.js';
import type { NatsHost } from './host.js';

/** What a topic needs of a member of one of its groups. */
export interface MemberHandle {
  interrupt(): void;
  wake(): void;
  close(): Promise<void>;
  observe(stats: TopicStats): void;
  /** Messages below `head` are gone (expired, or evicted): deliveries of them held here are stale. */
  expireBelow(head: number): void;
  /** The server evicted (or terminated) stream sequence `seq`: a delivery of it held or buffered here is stale. */
  evicted(seq: number): void;
}

/** What a member needs of its topic. */
export interface TopicPort {
  readonly host: NatsHost;
  readonly name: string;
  readonly stream: string;
  readonly config: NatsTopicConfig;
  readonly closed: boolean;
  ensureConsumer(g: GroupState, from: MemberOptions['from']): Promise<void>;
  moveGroup(g: GroupState, offset: number, kind: 'commit' | 'seek', ready: Promise<void>): Promise<boolean>;
  memberClosed(g: GroupState, member: MemberHandle): Promise<void>;
  deadLetter(g: GroupState, offset: number, deliveries: number, value: unknown, key: string | undefined, headers: Record<string, string>): Promise<void>;
  /** Under `drop-oldest`: what was evicted before groups settled it. */
  readonly evictions: Evictions | undefined;
  refresh(): Promise<void>;
}

/** JetStream's API error codes this engine acts on. */
export const MAX_MSGS_EXCEEDED = 10077;
export const SEALED = 10109;
const NOT_FOUND = [10014, 10059];

export function apiCode(e: unknown): number | undefined {
  return typeof (e as JetStreamApiError | undefined)?.code === 'number' ? (e as JetStreamApiError).code : undefined;
}

export function notFound(e: unknown): boolean {
  return NOT_FOUND.includes(apiCode(e) ?? 0);
}

/** A group's consumer name: `g-` and the encoded group for a durable group, `p-` for a private subscription. */
export function consumerName(group: string, durable: boolean): string {
  return (durable ? 'g-' : 'p-') + encodeName(group);
}

/** What this process counts of a group (JetStream keeps no such counters), and its members here. */
export class GroupState {
  readonly members = new Set<MemberHandle>();
  /** Held deliveries by stream sequence: a redelivery here supersedes the older copy. */
  readonly holders = new Map<number, { readonly deliveryCount: number; gone: boolean }>();
  /** Bumped when the consumer is recreated (commit, seek): deliveries of an older generation are stale. */
  generation = 0;
  /** The consumer is being recreated: members wait for it. */
  recreating: Promise<void> | undefined = undefined;
  /** Highest stream sequence delivered here, to count what expired before delivery. */
  lastSeq = 0;
  /**
   * Delivery counts of messages this process returned (nack, close). JetStream rolls a nak of the
   * last message it delivered back to a first delivery; the count here keeps it counted.
   */
  readonly returned = new Map<number, number>();
  acked = 0;
  nacked = 0;
  redelivered = 0;
  deadLettered = 0;
  /** Skipped by a `seek` here (what a `drop-oldest` stream evicted is counted by the topic). */
  missed = 0;
  expired = 0;

  constructor(
    readonly name: string,
    readonly consumer: string,
    readonly durable: boolean,
  ) {}
}


/**
 * The stream sequence up to which a consumer has settled everything: what it delivered when
 * nothing is pending, else its ack floor (never below where it started).
 */
export function settledBelow(c: ConsumerInfo): number {
  if (c.num_ack_pending === 0) return c.delivered.stream_seq;
  return Math.max(c.ack_floor.stream_seq, (c.config.opt_start_seq ?? 1) - 1);
}

/** The stream sequence below which every consumer has settled everything (`last` + 1 without consumers). */
export function settledFloor(last: number, consumers: Iterable<ConsumerInfo>): number {
  let floor = last + 1;
  for (const c of consumers) floor = Math.min(floor, settledBelow(c) + 1);
  return floor;
}
