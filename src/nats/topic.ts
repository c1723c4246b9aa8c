import { AckPolicy, type ConsumerConfig, type ConsumerInfo, DeliverPolicy, type StreamInfo } from '@nats-io/jetstream';
import type { MemberOptions, MemberPort, PublishEntry, TopicBackend } from '../engine.js';
import { ClosedError, TopicFullError } from '../errors.js';
import type { GroupStats, TopicStats } from '../types.js';
import { decodeName, type NatsTopicConfig, pack } from './config.js';
import { apiCode, consumerName, GroupState, MAX_MSGS_EXCEEDED, notFound, SEALED, settledBelow, type TopicPort } from './group.js';
import type { NatsHost } from './host.js';
import { NatsMember } from './member.js';

interface LocalCounts {
  rejected: number;
  deleted: number;
  waiting: number;
  deadLetterDropped: number;
}

function statsOf(name: string, config: NatsTopicConfig, info: StreamInfo, consumers: ConsumerInfo[], groups: Map<string, GroupState>, local: LocalCounts): TopicStats {
  const tail = info.state.last_seq;
  const head = info.state.messages === 0 ? tail : info.state.first_seq - 1;
  const out: Record<string, GroupStats> = {};
  let subscribers = 0;
  for (const g of groups.values()) subscribers += g.members.size;
  for (const c of consumers) {
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
      missed: g?.missed ?? 0,
      filtered: 0,
      expired: g?.expired ?? 0,
      durable,
    };
  }
  return {
    name,
    capacity: config.capacity,
    size: info.state.messages,
    head,
    tail,
    published: tail,
    rejected: local.rejected,
    dropped: 0,
    expired: config.ttlMs === null ? 0 : Math.max(0, head - local.deleted),
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

/** The most messages one round of making room deletes. */
const ROOM_BATCH = 256;

function offsetOf(seq: number): number {
  return seq - 1;
}

function listOf(offset: number): number[] {
  return [offset];
}

/** Sleeps `ms`, or less when `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * A topic as one JetStream stream. Overflow is emulated on a stream with `max_msgs` = capacity and
 * discard-new: a publish the server refuses as full deletes what every consumer has settled, then
 * retries, rejects (`reject`) or waits and retries (`block`). Publishes are pipelined until one
 * finds the stream full; from then on they queue behind it in call order.
 */
export class NatsTopic implements TopicBackend, TopicPort {
  readonly groups = new Map<string, GroupState>();
  /** The server's side of the figures, as last fetched; this process's counts are added when read. */
  private server: { info: StreamInfo; consumers: ConsumerInfo[] };
  private refreshing: Promise<void> | undefined = undefined;
  private again = false;
  private sealed = false;
  private readonly local: LocalCounts = { rejected: 0, deleted: 0, waiting: 0, deadLetterDropped: 0 };
  /** Publishes that found the stream full, in order: later ones queue behind. */
  private queue: Promise<unknown> = Promise.resolve();
  private queued = 0;
  /** Consumers being created by this process: a publish waits for them. */
  private readonly creating = new Set<Promise<void>>();

  constructor(
    readonly host: NatsHost,
    readonly name: string,
    readonly stream: string,
    readonly subject: string,
    readonly config: NatsTopicConfig,
    info: StreamInfo,
  ) {
    this.sealed = info.config.sealed === true;
    this.server = { info, consumers: [] };
  }

  get closed(): boolean {
    return this.sealed;
  }

  publish(entries: readonly PublishEntry[], signal?: AbortSignal): Promise<number[]> {
    if (this.sealed) return Promise.reject(new ClosedError(`topic \`${this.name}\` is closed`));
    // a subscription opened here before this publish sees it, as on the memory engine
    if (this.creating.size > 0) return Promise.allSettled([...this.creating]).then(() => this.publish(entries, signal));
    const now = Date.now();
    try {
      const send = (e: PublishEntry): Promise<number> => this.publishOne(pack(e.value, e.key, e.headers, e.ttlMs === undefined ? undefined : now + e.ttlMs), undefined, signal);
      return entries.length === 1 ? send(entries[0]!).then(listOf) : Promise.all(entries.map(send));
    } catch (e) {
      return Promise.reject(e); // a value MessagePack cannot encode
    }
  }

  /** Publishes one payload; resolves to its offset. `msgId` makes it idempotent (dead letters). */
  publishOne(data: Uint8Array, msgId: string | undefined, signal?: AbortSignal): Promise<number> {
    const attempt =
      msgId === undefined
        ? (): Promise<number> => this.host.publish(this.subject, data).then(offsetOf)
        : (): Promise<number> => this.host.js.publish(this.subject, data, { msgID: msgId }).then((ack) => ack.seq - 1);
    if (this.queued > 0) return this.enqueue(attempt, signal);
    return attempt().catch((e: unknown) => {
      if (apiCode(e) === MAX_MSGS_EXCEEDED) return this.enqueue(attempt, signal);
      throw this.mapError(e);
    });
  }

  private enqueue(attempt: () => Promise<number>, signal: AbortSignal | undefined): Promise<number> {
    this.queued++;
    this.local.waiting++;
    const run = this.queue.then(() => this.untilRoom(attempt, signal));
    this.queue = run.catch(() => undefined).finally(() => {
      this.queued--;
      this.local.waiting--;
    });
    return run;
  }

  /** Retries `attempt`, making room between tries: `reject` fails at once, `block` waits. */
  private async untilRoom(attempt: () => Promise<number>, signal: AbortSignal | undefined): Promise<number> {
    let wait = 5;
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      if (this.sealed) throw new ClosedError(`topic \`${this.name}\` is closed`);
      try {
        return await attempt();
      } catch (e) {
        if (apiCode(e) !== MAX_MSGS_EXCEEDED) throw this.mapError(e);
      }
      if (await this.makeRoom()) continue;
      if (this.config.overflow === 'reject') {
        this.local.rejected++;
        throw new TopicFullError(this.name, this.config.capacity);
      }
      await pause(wait, signal);
      wait = Math.min(100, wait * 2);
      await this.checkSealed();
    }
  }

  private mapError(e: unknown): unknown {
    if (apiCode(e) === SEALED) {
      this.sealed = true;
      return new ClosedError(`topic \`${this.name}\` is closed`);
    }
    return e;
  }

  private async checkSealed(): Promise<void> {
    const info = await this.host.jsm.streams.info(this.stream);
    if (info.config.sealed === true) this.sealed = true;
  }

  /**
   * Deletes the oldest messages every consumer has settled, as many as the publishes waiting here
   * need (at most {@link ROOM_BATCH} at a time). True if it removed any. Each message is deleted on
   * its own, pipelined: a stream purge up to a sequence would clear every consumer's pending
   * deliveries on nats-server 2.9 (measured on 2.9.10), losing what members hold.
   */
  private async makeRoom(): Promise<boolean> {
    const info = await this.host.jsm.streams.info(this.stream);
    const { messages, first_seq: first, last_seq: last } = info.state;
    if (messages < this.config.capacity) return true; // room appeared meanwhile (TTL, another process)
    let floor = last + 1;
    for await (const c of this.host.jsm.consumers.list(this.stream)) {
      floor = Math.min(floor, settledBelow(c) + 1);
    }
    const wanted = Math.min(ROOM_BATCH, messages + Math.max(1, this.queued) - this.config.capacity);
    const upTo = Math.min(floor, first + wanted);
    if (upTo <= first) return false;
    const seqs = Array.from({ length: upTo - first }, (_, i) => first + i);
    const removed = await Promise.all(seqs.map((seq) => this.deleteMessage(seq)));
    const count = removed.filter(Boolean).length;
    this.local.deleted += count;
    return count > 0;
  }

  /** Deletes one message (without overwriting its bytes); false if it was gone already. */
  private deleteMessage(seq: number): Promise<boolean> {
    return this.host.jsm.streams.deleteMessage(this.stream, seq, false).catch((e: unknown) => {
      if (apiCode(e) === undefined) throw e;
      return false;
    });
  }

  openMember<T>(options: MemberOptions): MemberPort<T> {
    const g = options.group === undefined ? this.groupState(`~${this.host.uniqueId()}`, false) : this.groupState(options.group);
    const member = new NatsMember<T>(this, g, options);
    g.members.add(member);
    return member;
  }

  /** This process's state of a group (a durable one unless `durable` is false). */
  groupState(group: string, durable = true): GroupState {
    let g = this.groups.get(group);
    if (g === undefined) {
      g = new GroupState(group, consumerName(group, durable), durable);
      this.groups.set(group, g);
    }
    return g;
  }

  /** Creates the group's consumer unless it exists (then `from` is ignored). Publishes wait for it. */
  ensureConsumer(g: GroupState, from: MemberOptions['from']): Promise<void> {
    const p = this.findOrCreate(g, from);
    this.creating.add(p);
    const forget = (): void => void this.creating.delete(p);
    p.then(forget, forget);
    return p;
  }

  private async findOrCreate(g: GroupState, from: MemberOptions['from']): Promise<void> {
    try {
      const info = await this.host.jsm.consumers.info(this.stream, g.consumer);
      g.lastSeq = Math.max(g.lastSeq, info.delivered.stream_seq);
      return;
    } catch (e) {
      if (!notFound(e)) throw e;
    }
    const start = from === undefined ? (g.durable ? 'earliest' : 'latest') : from;
    await this.createConsumer(g, start === 'committed' ? 'earliest' : start);
  }

  /** Adds the group's consumer, starting at `from`. */
  async createConsumer(g: GroupState, from: MemberOptions['from']): Promise<void> {
    const config: Partial<ConsumerConfig> = {
      durable_name: g.consumer,
      ack_policy: AckPolicy.Explicit,
      ack_wait: this.config.ackTimeoutMs * 1_000_000,
      max_ack_pending: -1,
    };
    if (!g.durable) config.inactive_threshold = Math.max(5_000, this.config.ackTimeoutMs) * 1_000_000;
    // 'latest' as an explicit start, so that the consumer's config tells where it started
    const start = from === 'latest' ? (await this.host.jsm.streams.info(this.stream)).state.last_seq : typeof from === 'object' && from !== null ? from.offset : 0;
    if (start === 0) config.deliver_policy = DeliverPolicy.All;
    else {
      config.deliver_policy = DeliverPolicy.StartSequence;
      config.opt_start_seq = start + 1;
    }
    const info = await this.host.jsm.consumers.add(this.stream, config);
    g.lastSeq = info.delivered.stream_seq;
  }

  /**
   * Moves the group to `offset` by recreating its consumer there (JetStream before 2.14 has no
   * reset): every member's outstanding deliveries go stale, and delivery counts start over.
   */
  async moveGroup(g: GroupState, offset: number, kind: 'commit' | 'seek', ready: Promise<void>): Promise<boolean> {
    const before = g.recreating;
    let moved = false;
    const run = (async () => {
      await before;
      await ready;
      const info = await this.host.jsm.consumers.info(this.stream, g.consumer);
      const committed = settledBelow(info);
      if (kind === 'commit' && offset <= committed) return false;
      const stream = await this.host.jsm.streams.info(this.stream);
      const target = Math.max(offset, stream.state.messages === 0 ? stream.state.last_seq : stream.state.first_seq - 1);
      if (kind === 'seek') g.missed += Math.max(0, target - committed);
      moved = true;
      g.generation++;
      for (const m of g.members) m.interrupt();
      await this.host.jsm.consumers.delete(this.stream, g.consumer).catch(() => undefined);
      await this.createConsumer(g, { offset: target });
      return true;
    })();
    // set at once, so that no member pulls from the consumer being replaced
    const recreating = run.then(() => undefined, () => undefined);
    g.recreating = recreating;
    try {
      return await run;
    } finally {
      if (g.recreating === recreating) g.recreating = undefined;
      if (moved || g.recreating === undefined) for (const m of g.members) m.wake();
      this.refresh();
    }
  }

  /** A member left: a private subscription's consumer goes with its last member. */
  memberClosed(g: GroupState, member: NatsMember<unknown>): Promise<void> {
    g.members.delete(member);
    if (g.durable || g.members.size > 0) return Promise.resolve();
    this.groups.delete(g.name);
    return this.host.jsm.consumers
      .delete(this.stream, g.consumer)
      .then(() => undefined, () => undefined)
      .finally(() => this.refresh());
  }

  /**
   * Publishes a dead letter of the group `g` to the topic's dead-letter topic; resolves once it is
   * there (or dropped and counted), so that the source is settled only then.
   */
  async deadLetter(g: GroupState, offset: number, deliveries: number, value: unknown, key: string | undefined, headers: Record<string, string>): Promise<void> {
    g.deadLettered++;
    const target = this.config.deadLetter === null ? undefined : await this.host.existingTopic(this.config.deadLetter);
    if (target === undefined || target.closed) {
      this.local.deadLetterDropped++;
      return;
    }
    try {
      await target.publishOne(pack(value, key, headers, undefined), `dlq:${this.stream}:${g.consumer}:${offset}:${deliveries}`);
    } catch {
      this.local.deadLetterDropped++;
    } finally {
      void target.refresh();
    }
  }

  async deleteGroup(name: string): Promise<boolean> {
    const g = this.groups.get(name);
    if (g !== undefined) for (const m of [...g.members]) void m.close();
    try {
      await this.host.jsm.consumers.delete(this.stream, consumerName(name, true));
      return true;
    } catch (e) {
      if (notFound(e)) return false;
      throw e;
    } finally {
      this.groups.delete(name);
      this.refresh();
    }
  }

  /** The server's figures last fetched, with this process's counts as they are now; reading them refreshes them in the background (one refresh at a time). */
  stats(): TopicStats {
    void this.refresh();
    return statsOf(this.name, this.config, this.server.info, this.server.consumers, this.groups, this.local);
  }

  /** Refreshes the snapshot: stream info and every consumer's info. */
  refresh(): Promise<void> {
    if (this.refreshing !== undefined) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        try {
          const info = await this.host.jsm.streams.info(this.stream);
          const consumers: ConsumerInfo[] = [];
          for await (const c of this.host.jsm.consumers.list(this.stream)) consumers.push(c);
          if (info.config.sealed === true) this.sealed = true;
          const head = info.state.messages === 0 ? info.state.last_seq : info.state.first_seq - 1;
          for (const g of this.groups.values()) for (const m of g.members) m.expireBelow(head);
          this.server = { info, consumers };
          const snapshot = statsOf(this.name, this.config, info, consumers, this.groups, this.local);
          for (const g of this.groups.values()) for (const m of g.members) m.observe(snapshot);
        } catch {
          // the stream is gone or the connection is closing: keep the last snapshot
        }
      } while (this.again);
    })().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** Seals the stream: publishing fails, members drain what is retained and then are done. */
  async close(): Promise<void> {
    if (!this.sealed) {
      const info = await this.host.jsm.streams.info(this.stream);
      if (info.config.sealed !== true) await this.host.jsm.streams.update(this.stream, { ...info.config, sealed: true } as Parameters<NatsHost['jsm']['streams']['update']>[1]);
      this.sealed = true;
    }
    await this.refresh();
    for (const g of this.groups.values()) for (const m of g.members) m.wake();
  }

  async destroy(): Promise<void> {
    this.sealed = true;
    for (const g of this.groups.values()) for (const m of [...g.members]) void m.close();
    await this.host.jsm.streams.delete(this.stream).catch((e: unknown) => {
      if (!notFound(e)) throw e;
    });
    this.host.forget(this.name);
  }
}
