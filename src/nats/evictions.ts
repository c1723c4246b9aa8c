import type { ConsumerInfo } from '@nats-io/jetstream';
import { Covered } from './covered.js';

/** How many of this process's latest acks and terms are remembered (see {@link Evictions.settling}). */
const SETTLES_KEPT = 4096;

type Advisory = { readonly consumer: string; readonly seq: number };

/**
 * What a `drop-oldest` topic's stream evicted before a group settled it, as this process sees
 * it. JetStream's discard-old evicts silently; three things tell what a group missed:
 *
 * - a gap between two first deliveries this process saw for the group: the stream sequences
 *   between the two were removed before the consumer reached them, but for as many as the
 *   consumer sequences say were delivered to members elsewhere in between;
 * - a snapshot: the stream's first sequence passed the consumer's delivered sequence (what a
 *   consumer with no member here, or one that pulled elsewhere, had not reached);
 * - a message delivered and not acked (held, buffered, nacked, waiting out an ack timeout): the
 *   server settles it as terminated and says so in a `MSG_TERMINATED` advisory. An advisory for a
 *   message still retained is a member's own `term()`, not an eviction; one for a message a member
 *   of this process acked or terminated lately is not counted either (the ack reached the server
 *   after the eviction: the group handled it, and counted it `acked`).
 *
 * Per consumer, a mark says up to which sequence it is accounted, so that no sequence is counted
 * twice. The topic's `dropped` counts each evicted sequence once, when at least one group missed
 * it. What left the head before this process first saw a consumer is not counted.
 */
export class Evictions {
  /** Per consumer: sequences up to this one are accounted for it. */
  private readonly marks = new Map<string, number>();
  /** Per consumer: messages it missed. */
  readonly missed = new Map<string, number>();
  /** Per consumer: the last first delivery seen here, and how many redeliveries here since. */
  private readonly cursors = new Map<string, { consumerSeq: number; seq: number; since: number }>();
  dropped = 0;
  private readonly droppedSeqs = new Covered();
  /** Advisories received and not yet told apart (eviction or a term). */
  private advised: Advisory[] = [];
  /**
   * Acks and terms this process sent lately, `consumer seq`: an advisory for one of them is the
   * answer to a term, or says the message was evicted before the ack reached the server; either
   * way the group settled it here (counted `acked` or dead-lettered), so it is not counted missed.
   */
  private readonly settled = new Set<string>();

  /** A member of this process acks or terminates `seq`. */
  settling(consumer: string, seq: number): void {
    this.settled.add(`${consumer} ${seq}`);
    if (this.settled.size > SETTLES_KEPT) {
      for (const key of this.settled) {
        this.settled.delete(key); // the oldest (a Set iterates in insertion order)
        break;
      }
    }
  }

  /** A `MSG_TERMINATED` advisory: false when it answers what this process settled. */
  advise(consumer: string, seq: number): boolean {
    if (this.settled.delete(`${consumer} ${seq}`)) return false;
    this.advised.push({ consumer, seq });
    return true;
  }

  /** The advisories received so far, to be told apart by the snapshot read after them. */
  take(): readonly Advisory[] {
    const taken = this.advised;
    this.advised = [];
    return taken;
  }

  /** A member here received `seq` as delivery `consumerSeq` of `consumer` (`first`: its first delivery). */
  arrived(consumer: string, consumerSeq: number, seq: number, first: boolean): void {
    const last = this.cursors.get(consumer);
    if (last === undefined || consumerSeq <= last.consumerSeq) {
      // the first seen here, or the consumer was recreated elsewhere (commit, seek): start over,
      // counting what went before the consumer's very first delivery from where accounting began
      if (last === undefined && consumerSeq === 1 && first && this.marks.has(consumer)) this.miss(consumer, 0, seq - 1);
      if (first) this.cursors.set(consumer, { consumerSeq, seq, since: 0 });
      else this.cursors.delete(consumer);
      return;
    }
    if (!first || seq <= last.seq) {
      last.since++; // a redelivery: the consumer's cursor did not move
      return;
    }
    // the deliveries made in between went to members elsewhere: as many sequences between the two were not skipped
    if (this.marks.has(consumer)) this.miss(consumer, last.seq, seq - 1, consumerSeq - last.consumerSeq - 1 - last.since);
    this.cursors.set(consumer, { consumerSeq, seq, since: 0 });
  }

  /** This process moved the group's consumer to start after `seq` (commit, seek; a seek counts what it skips itself). */
  moved(consumer: string, seq: number): void {
    this.cursors.delete(consumer);
    if (this.marks.has(consumer)) this.marks.set(consumer, seq);
  }

  /**
   * Accounts for what left the head by `first` (the stream's first sequence, or its last + 1 when
   * empty), given every consumer's info and the advisories taken before the snapshot was asked for.
   */
  account(first: number, consumers: readonly ConsumerInfo[], advised: readonly Advisory[]): void {
    const gone = first - 1;
    const live = new Set<string>();
    for (const c of consumers) {
      live.add(c.name);
      const delivered = c.delivered.stream_seq;
      if (!this.marks.has(c.name)) this.marks.set(c.name, Math.max(gone, delivered)); // first seen: what went before is not counted
      else this.miss(c.name, delivered, gone);
    }
    for (const a of advised) {
      if (a.seq >= first || !live.has(a.consumer)) continue; // still retained: a member's term elsewhere
      this.add(a.consumer, 1);
      this.dropped += this.droppedSeqs.add(a.seq - 1, a.seq);
    }
    for (const name of this.marks.keys()) {
      if (!live.has(name)) {
        this.marks.delete(name);
        this.missed.delete(name);
        this.cursors.delete(name);
      }
    }
  }

  /**
   * `consumer` had reached `reached` and the stream no longer holds anything up to `gone`: what it
   * had not reached was missed, but for `elsewhere` of them, delivered to members elsewhere (which
   * ones is not known here: a redelivery among those deliveries makes the count one short, never
   * one over).
   */
  private miss(consumer: string, reached: number, gone: number, elsewhere = 0): void {
    const mark = this.marks.get(consumer) ?? gone;
    const from = Math.max(mark, reached);
    if (gone <= from) return;
    this.marks.set(consumer, gone);
    if (gone - from > elsewhere) this.add(consumer, gone - from - elsewhere);
    this.dropped += Math.max(0, this.droppedSeqs.add(from, gone) - elsewhere);
  }

  private add(consumer: string, n: number): void {
    this.missed.set(consumer, (this.missed.get(consumer) ?? 0) + n);
  }
}
