import { AckPolicy, type ConsumerConfig, DeliverPolicy } from '@nats-io/jetstream';
import type { MemberOptions } from '../engine.js';
import type { NatsTopicConfig } from './config.js';
import { type GroupState, notFound, settledBelow } from './group.js';
import type { NatsHost } from './host.js';

/** The consumers of one stream: one per group, created on first use, recreated to move a group. */
export class Consumers {
  /** Consumers being created by this process: a publish waits for them. */
  readonly creating = new Set<Promise<void>>();

  constructor(
    private readonly host: NatsHost,
    private readonly stream: string,
    private readonly config: NatsTopicConfig,
    private readonly refresh: () => void,
    /** The group's consumer now starts after stream sequence `seq`. */
    private readonly moved: (consumer: string, seq: number) => void,
  ) {}

  /** Creates the group's consumer unless it exists (then `from` is ignored). Publishes wait for it. */
  ensure(g: GroupState, from: MemberOptions['from']): Promise<void> {
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
    await this.create(g, start === 'committed' ? 'earliest' : start);
  }

  /** Adds the group's consumer, starting at `from`. */
  private async create(g: GroupState, from: MemberOptions['from']): Promise<void> {
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
  async move(g: GroupState, offset: number, kind: 'commit' | 'seek', ready: Promise<void>): Promise<boolean> {
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
      await this.create(g, { offset: target });
      this.moved(g.consumer, target);
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
}
