import type { ConsumerInfo, StreamInfo } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/transport-node';
import type { MemberOptions, MemberPort, PublishEntry, TopicBackend } from '../engine.js';
import type { TopicStats } from '../types.js';
import { type NatsTopicConfig, pack } from './config.js';
import { Consumers } from './consumers.js';
import { Evictions } from './evictions.js';
import { consumerName, GroupState, notFound, settledFloor, type TopicPort } from './group.js';
import { grownCapacity, neededOf } from './grow.js';
import type { NatsHost } from './host.js';
import { NatsMember } from './member.js';
import { Room } from './room.js';
import { headOf, type LocalCounts, statsOf } from './stats.js';

function listOf(offset: number): number[] {
  return [offset];
}

/** How many rounds of deleting one refresh of a `grow` topic makes before it shows the figures. */
const TRIM_ROUNDS = 8;

/**
 * A topic as one JetStream stream. Room is emulated on `max_msgs` with discard-new ({@link Room});
 * under `drop-oldest` the stream discards old messages itself and {@link Evictions} counts what
 * groups missed; under `grow` the capacity is derived from each snapshot ({@link grownCapacity})
 * and settled messages past it are deleted.
 */
export class NatsTopic implements TopicBackend, TopicPort {
  readonly groups = new Map<string, GroupState>();
  /** The server's side of the figures, as last fetched; this process's counts are added when read. */
  private server: { info: StreamInfo; consumers: ConsumerInfo[] };
  private refreshing: Promise<void> | undefined = undefined;
  private again = false;
  private readonly local: LocalCounts = { rejected: 0, deleted: 0, waiting: 0, deadLetterDropped: 0 };
  private readonly room: Room;
  private readonly consumers: Consumers;
  /** The capacity now: the configured one, or under `grow` as last derived. */
  private capacity: number;
  /** Under `drop-oldest`: what the stream evicted before groups settled it, and the advisories that tell. */
  readonly evictions: Evictions | undefined;
  private readonly advisories: Subscription | undefined;

  constructor(
    readonly host: NatsHost,
    readonly name: string,
    readonly stream: string,
    readonly subject: string,
    readonly config: NatsTopicConfig,
    info: StreamInfo,
  ) {
    this.server = { info, consumers: [] };
    this.capacity = config.capacity;
    this.room = new Room(host, name, stream, subject, config, this.local, info.config.sealed === true);
    const evictions = config.overflow === 'drop-oldest' ? new Evictions() : undefined;
    this.evictions = evictions;
    this.consumers = new Consumers(
      host,
      stream,
      config,
      () => void this.refresh(),
      (consumer, seq) => evictions?.moved(consumer, seq),
    );
    if (evictions !== undefined) {
      this.advisories = host.nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.${stream}.*`, {
        callback: (_, m) => {
          let a: { consumer?: unknown; stream_seq?: unknown };
          try {
            a = m.json();
          } catch {
            return;
          }
          if (typeof a.consumer !== 'string' || typeof a.stream_seq !== 'number' || !evictions.advise(a.consumer, a.stream_seq)) return;
          for (const g of this.groups.values()) if (g.consumer === a.consumer) for (const member of g.members) member.evicted(a.stream_seq);
          void this.refresh();
        },
      });
    }
  }

  get closed(): boolean {
    return this.room.sealed;
  }

  publish(entries: readonly PublishEntry[], signal?: AbortSignal): Promise<number[]> {
    if (this.room.sealed) return Promise.reject(this.room.closedError());
    // a subscription opened here before this publish sees it, as on the memory engine
    const creating = this.consumers.creating;
    if (creating.size > 0) return Promise.allSettled([...creating]).then(() => this.publish(entries, signal));
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
    const sent = this.room.publishOne(data, msgId, signal);
    if (this.config.overflow !== 'drop-oldest' && this.config.overflow !== 'grow') return sent;
    return sent.then((offset) => {
      // past the capacity since the last snapshot: a message was evicted, or the stream may be trimmed
      if (offset + 1 - headOf(this.server.info) > this.capacity) void this.refresh();
      return offset;
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

  ensureConsumer(g: GroupState, from: MemberOptions['from']): Promise<void> {
    return this.consumers.ensure(g, from);
  }

  moveGroup(g: GroupState, offset: number, kind: 'commit' | 'seek', ready: Promise<void>): Promise<boolean> {
    return this.consumers.move(g, offset, kind, ready);
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
    return this.figures(this.server.info, this.server.consumers);
  }

  private figures(info: StreamInfo, consumers: ConsumerInfo[]): TopicStats {
    return statsOf({ name: this.name, config: this.config, capacity: this.capacity, info, consumers, groups: this.groups, local: this.local, evictions: this.evictions });
  }

  /**
   * Refreshes the snapshot: stream info and every consumer's info. Under `drop-oldest` it counts
   * what was evicted; under `grow` it derives the capacity and deletes settled messages past it
   * (then reads the figures again), so that a snapshot shows the capacity with the size it led to.
   */
  refresh(): Promise<void> {
    if (this.refreshing !== undefined) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      let rounds = 0;
      do {
        this.again = false;
        try {
          const advised = this.evictions?.take() ?? [];
          const info = await this.host.jsm.streams.info(this.stream);
          const consumers: ConsumerInfo[] = [];
          for await (const c of this.host.jsm.consumers.list(this.stream)) consumers.push(c);
          if (info.config.sealed === true) this.room.sealed = true;
          const head = headOf(info);
          this.evictions?.account(head + 1, consumers, advised);
          let capacity = this.capacity;
          if (this.config.overflow === 'grow') {
            capacity = grownCapacity(this.config, capacity, neededOf(info, consumers));
            if ((await this.trim(info, consumers, capacity)) && ++rounds < TRIM_ROUNDS) {
              this.again = true; // the capacity is shown with the figures read after the trim
              continue;
            }
          }
          for (const g of this.groups.values()) for (const m of g.members) m.expireBelow(head);
          this.capacity = capacity;
          this.server = { info, consumers };
          const snapshot = this.figures(info, consumers);
          for (const g of this.groups.values()) for (const m of g.members) m.observe(snapshot);
        } catch {
          // the stream is gone or the connection is closing: keep the last snapshot
        }
      } while (this.again);
    })().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** Under `grow`: deletes settled messages from the head past `capacity`; true if it deleted any (the figures are then read again). */
  private async trim(info: StreamInfo, consumers: readonly ConsumerInfo[], capacity: number): Promise<boolean> {
    const { messages, first_seq: first } = info.state;
    if (messages <= capacity) return false;
    return (await this.room.deleteSettled(first, first + messages - capacity, settledFloor(info.state.last_seq, consumers))) > 0;
  }

  /** Seals the stream: publishing fails, members drain what is retained and then are done. */
  async close(): Promise<void> {
    if (!this.room.sealed) {
      const info = await this.host.jsm.streams.info(this.stream);
      if (info.config.sealed !== true) await this.host.jsm.streams.update(this.stream, { ...info.config, sealed: true } as Parameters<NatsHost['jsm']['streams']['update']>[1]);
      this.room.sealed = true;
    }
    await this.refresh();
    for (const g of this.groups.values()) for (const m of g.members) m.wake();
  }

  /** The engine closes: stop listening to the server's advisories (a caller's connection stays open). */
  release(): void {
    try {
      if (this.advisories?.isClosed() === false) this.advisories.unsubscribe();
    } catch {
      // the connection is closing: the subscription ends with it
    }
  }

  async destroy(): Promise<void> {
    this.room.sealed = true;
    this.release();
    for (const g of this.groups.values()) for (const m of [...g.members]) void m.close();
    await this.host.jsm.streams.delete(this.stream).catch((e: unknown) => {
      if (!notFound(e)) throw e;
    });
    this.host.forget(this.name);
  }
}
