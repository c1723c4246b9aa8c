import type { DeliveryRecord, MemberListener, MemberOptions, MemberPort, Settlement } from '../engine.js';
import type { DeadLetterReason } from '../internal/memory/group/group.js';
import { deadLetterHeaders } from '../internal/memory/dead-letter.js';
import type { TopicStats } from '../types.js';
import { ArrivalBuffer } from './buffer.js';
import { type Envelope, unpack } from './config.js';
import { HeldRecord, type RecordOwner } from './held.js';
import { type GroupState, type MemberHandle, type TopicPort } from './group.js';
import { NakBatch } from './nak-batch.js';
import { type PulledMessage, PullSubscription } from './pull.js';

/**
 * A member of a group: a durable pull consumer shared by every member of the group, in any
 * process. It pulls only what its face asks for (the demand), into a local buffer `poll` reads.
 * JetStream's ack wait runs from when the server sent a message, so a message that sat in the
 * buffer is given `working()` when it is handed out, and one that sat longer than the ack wait
 * (redelivered elsewhere meanwhile) is not handed out at all.
 */
export class NatsMember<T> implements MemberPort<T>, MemberHandle, RecordOwner<T> {
  onReady: MemberListener | null = null;
  error: unknown = undefined;
  private readonly holding = new Set<HeldRecord<T>>();
  private readonly buffer: ArrivalBuffer;
  private wanted = 0;
  private closing: Promise<void> | undefined = undefined;
  private left = false;
  private drained = false;
  private deleted = false;
  private readonly opened: Promise<void>;
  /** Set once the group's consumer exists. */
  private ready = false;
  private pull: { generation: number; sub: PullSubscription } | undefined = undefined;
  private sweep: ReturnType<typeof setTimeout> | undefined = undefined;
  private readonly ackWaitMs: number;
  /** After a nack: the next pull waits until the server has seen it, so the message comes back before newer ones. */
  private readonly naks: NakBatch;

  constructor(
    private readonly topic: TopicPort,
    private readonly g: GroupState,
    private readonly options: MemberOptions,
  ) {
    this.ackWaitMs = topic.config.ackTimeoutMs;
    this.buffer = new ArrivalBuffer(this.ackWaitMs);
    this.naks = new NakBatch(
      () => topic.host.flush(),
      () => this.pump(),
    );
    this.opened = topic.ensureConsumer(g, options.from);
    this.opened.then(
      () => {
        this.ready = true;
        this.pump();
        void topic.refresh();
      },
      (e: unknown) => this.fail(e),
    );
  }

  get group(): string {
    return this.g.name;
  }

  get held(): number {
    return this.holding.size;
  }

  get desiredSize(): number {
    return Math.max(0, Math.min(this.wanted, this.options.prefetch - this.holding.size - this.buffer.length));
  }

  set desiredSize(n: number) {
    this.wanted = n;
    this.pump();
  }

  get done(): boolean {
    if (this.error !== undefined) return true;
    if (this.buffer.length > 0) return false;
    return this.closing !== undefined || this.left || this.deleted || (this.drained && this.holding.size === 0);
  }

  private get active(): boolean {
    return this.closing === undefined && !this.left && !this.deleted && this.error === undefined;
  }

  /**
   * Asks for what the demand wants beyond what the requests in flight may still bring: in
   * batches of a quarter window, or at once when the face would otherwise wait. After a nack,
   * not before the server has it, so that the message comes back before newer ones.
   */
  private pump(): void {
    if (!this.active || this.drained || !this.ready || this.g.recreating !== undefined || this.naks.settling !== undefined) return;
    const sub = this.subscription();
    const need = this.desiredSize - sub.outstanding;
    if (need <= 0) return;
    const starving = this.buffer.length === 0 && sub.outstanding === 0;
    if (!starving && need < Math.max(1, this.options.prefetch >> 2)) return;
    sub.request(need);
  }

  /** The pull subscription to the group's current consumer. */
  private subscription(): PullSubscription {
    const generation = this.g.generation;
    if (this.pull?.generation !== generation) {
      this.pull?.sub.close();
      const subject = `$JS.API.CONSUMER.MSG.NEXT.${this.topic.stream}.${this.g.consumer}`;
      const sub = new PullSubscription(this.topic.host.nc, this.topic.host.acks, subject, (m) => this.arrive(m, generation), (gone) => this.ended(gone, generation));
      this.pull = { generation, sub };
    }
    return this.pull.sub;
  }

  /** A pull request ended: the group's consumer is gone, or it expired (pull again, and see whether a closed topic is drained). */
  private ended(gone: boolean, generation: number): void {
    if (generation !== this.g.generation || !this.active) return;
    if (gone && this.g.recreating === undefined) {
      this.deleted = true; // the group was deleted
      this.pull?.sub.close();
      this.onReady?.ready();
      return;
    }
    if (this.topic.closed) void this.topic.refresh();
    this.pump();
  }

  private arrive(msg: PulledMessage, generation: number): void {
    if (generation !== this.g.generation) return; // its consumer is gone
    if (!this.active) {
      this.giveBack(msg, msg.deliveryCount);
      return;
    }
    const seq = msg.seq;
    const returned = this.g.returned.get(seq);
    if (returned !== undefined) this.g.returned.delete(seq);
    const count = Math.max(msg.deliveryCount, (returned ?? 0) + 1);
    const { ttlMs, overflow } = this.topic.config;
    // removed before the group saw them: expired (what a drop-oldest stream evicts, the topic counts)
    if (count === 1 && seq > this.g.lastSeq + 1 && ttlMs !== null && overflow !== 'drop-oldest') this.g.expired += seq - this.g.lastSeq - 1;
    this.topic.evictions?.arrived(this.g.consumer, msg.consumerSeq, seq, msg.deliveryCount === 1);
    this.g.lastSeq = Math.max(this.g.lastSeq, seq);
    if (count > 1) this.g.redelivered++;
    const previous = this.g.holders.get(seq);
    if (previous !== undefined && previous.deliveryCount < count) previous.gone = true;
    let envelope: Envelope;
    try {
      envelope = unpack(msg.data);
    } catch {
      this.deadLetter(msg, 'decode-error', undefined, count, { value: msg.data, key: undefined, headers: {}, expiresAt: undefined });
      return;
    }
    if (envelope.expiresAt !== undefined && envelope.expiresAt <= Date.now()) {
      this.settling(msg);
      msg.ack();
      this.g.expired++;
      this.pump();
      return;
    }
    const max = this.topic.config.maxDeliveries;
    if (max !== null && count > max) {
      this.deadLetter(msg, 'max-deliveries', undefined, count - 1, envelope);
      this.pump();
      return;
    }
    this.buffer.push({ msg, envelope, touched: Date.now(), generation, count });
    this.onReady?.ready();
  }

  poll(): DeliveryRecord<T> | undefined {
    if (this.left || this.g.recreating !== undefined) return undefined; // a commit or seek decides what is stale

    for (;;) {
      const a = this.buffer.shift();
      if (a === undefined) return undefined;
      if (a.generation !== this.g.generation) continue;
      const now = Date.now();
      let deadline = a.touched + this.ackWaitMs;
      if (now >= deadline) continue; // redelivered by now: this copy is stale
      if (now - a.touched > this.ackWaitMs / 10) {
        a.msg.working(); // it sat in the buffer: its ack wait starts over at hand-out
        deadline = now + this.ackWaitMs;
      }
      const record = new HeldRecord<T>(this, a.msg, a.envelope, a.count, deadline);
      if (this.options.ack === 'auto') {
        this.settling(a.msg);
        a.msg.ack();
        this.g.acked++;
        record.done = true;
        this.pump();
        return record;
      }
      this.holding.add(record);
      this.g.holders.set(a.msg.seq, record);
      this.armSweep(deadline);
      return record;
    }
  }

  /** @internal Settles a held delivery (its record answered from local state already). */
  settle(record: HeldRecord<T>, how: Settlement): void {
    const msg = record.msg;
    const envelope = { value: record.value, key: record.key, headers: record.headers, expiresAt: undefined };
    switch (how.kind) {
      case 'inProgress':
        msg.working();
        record.deadline = Date.now() + this.ackWaitMs;
        return;
      case 'ack':
        this.settling(msg);
        msg.ack();
        this.g.acked++;
        break;
      case 'nack': {
        const max = this.topic.config.maxDeliveries;
        if (max !== null && record.deliveryCount >= max) this.deadLetter(msg, 'max-deliveries', undefined, record.deliveryCount, envelope);
        else {
          this.nak(msg, how.delayMs, record.deliveryCount);
          this.g.nacked++;
        }
        break;
      }
      case 'term':
        this.deadLetter(msg, 'terminated', how.reason, record.deliveryCount, envelope);
        break;
    }
    record.done = true;
    this.drop(record);
    if (this.topic.closed) void this.topic.host.flush().then(() => this.topic.refresh());
  }

  /** Under `drop-oldest`: a `MSG_TERMINATED` advisory for a message this process settled is not an eviction. */
  private settling(msg: PulledMessage): void {
    this.topic.evictions?.settling(this.g.consumer, msg.seq);
  }

  /** Returns a message to the group at once, remembering its count. */
  private giveBack(msg: PulledMessage, count: number): void {
    this.g.returned.set(msg.seq, count);
    msg.nak();
  }

  /** Nacks go out at the end of the turn, lowest offset first, and the next pull waits until the server has them. */
  private nak(msg: PulledMessage, delayMs: number, count: number): void {
    this.g.returned.set(msg.seq, count);
    this.naks.add(msg, delayMs);
  }

  /** Sends the message to the dead-letter topic, then terminates it; keeps it in progress meanwhile. */
  private deadLetter(msg: PulledMessage, reason: DeadLetterReason, detail: string | undefined, deliveries: number, envelope: Envelope): void {
    const headers = deadLetterHeaders(envelope.headers, { topic: this.topic.name, group: this.g.name, offset: msg.seq - 1, reason, detail, deliveries });
    const keep = setInterval(() => msg.working(), Math.max(50, this.ackWaitMs / 2));
    void this.topic.deadLetter(this.g, msg.seq - 1, deliveries, envelope.value, envelope.key, headers).finally(() => {
      clearInterval(keep);
      this.settling(msg);
      if (detail !== undefined && this.topic.host.termReason) msg.term(detail);
      else msg.term();
      this.topic.refresh();
    });
  }

  /** @internal The delivery is settled or stale: it leaves the window. */
  drop(record: HeldRecord<T>): void {
    if (!record.done) record.gone = true;
    if (!this.holding.delete(record)) return;
    if (this.g.holders.get(record.msg.seq) === record) this.g.holders.delete(record.msg.seq);
    this.pump();
    this.onReady?.ready();
  }

  /** Stops the pull requests in flight: a member that left takes nothing more. */
  private stopPulls(): void {
    this.pull?.sub.close();
    this.buffer.stop();
  }

  /** One timer per member marks held deliveries stale at their deadline, so the window frees itself. */
  private armSweep(deadline: number): void {
    if (this.sweep !== undefined) return;
    this.sweep = setTimeout(() => {
      this.sweep = undefined;
      let next = Infinity;
      for (const r of [...this.holding]) {
        if (!r.settled) next = Math.min(next, r.deadline);
      }
      if (next !== Infinity) this.armSweep(next);
    }, Math.max(0, deadline - Date.now()) + 1);
    (this.sweep as { unref?: () => void }).unref?.();
  }

  /** @internal The topic's figures were refreshed: after a close, the member is done once drained. */
  observe(stats: TopicStats): void {
    if (!stats.closed || this.drained) return;
    const s = stats.groups[this.g.name];
    if (s === undefined || (s.pending === 0 && s.lag === 0)) {
      this.drained = true;
      this.onReady?.ready();
    }
  }

  expireBelow(head: number): void {
    const expiring = this.topic.config.overflow !== 'drop-oldest'; // else evicted, counted by the topic
    for (const r of [...this.holding]) {
      if (r.offset < head && !r.settled) {
        if (expiring) this.g.expired++;
        this.drop(r);
      }
    }
  }

  evicted(seq: number): void {
    this.buffer.remove(seq);
    for (const r of this.holding) {
      if (r.msg.seq === seq) {
        this.drop(r);
        return;
      }
    }
  }

  /** @internal The group is moving (commit, seek): every delivery held or buffered here is stale. */
  interrupt(): void {
    this.buffer.clear();
    this.pull?.sub.close();
    for (const r of [...this.holding]) this.drop(r);
  }

  /** @internal Something changed (the group moved, the topic closed): pull again and tell the face. */
  wake(): void {
    this.pump();
    this.onReady?.ready();
  }

  private fail(e: unknown): void {
    this.error = e;
    this.onReady?.ready();
  }

  commit(offset: number): Promise<boolean> {
    const moved = this.topic.moveGroup(this.g, offset, 'commit', this.opened);
    for (const r of [...this.holding]) if (r.offset < offset) this.drop(r);
    return moved;
  }

  seek(offset: number): Promise<boolean> {
    const moved = this.topic.moveGroup(this.g, offset, 'seek', this.opened);
    for (const r of [...this.holding]) this.drop(r);
    return moved;
  }

  leave(): void {
    if (!this.active) return;
    this.left = true;
    this.stopPulls();
    for (const a of this.buffer.clear()) this.giveBack(a.msg, a.count);
    void this.topic.memberClosed(this.g, this);
  }

  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closing = Promise.resolve();
      this.stopPulls();
      for (const a of this.buffer.clear()) this.giveBack(a.msg, a.count);
      for (const r of [...this.holding]) {
        if (!r.settled) this.giveBack(r.msg, r.deliveryCount);
        r.gone = true;
        this.drop(r);
      }
      clearTimeout(this.sweep);
      this.closing = this.opened.then(
        () => this.topic.memberClosed(this.g, this),
        () => undefined,
      );
    }
    return this.closing;
  }
}
