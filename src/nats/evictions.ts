import type { ConsumerInfo } from '@nats-io/jetstream';

/** How many counted ranges and advised sequences {@link Evictions} remembers. */
const REMEMBERED = 256;

/**
 * What a `drop-oldest` topic's stream evicted before a group settled it, as this process sees
 * it. JetStream's discard-old evicts silently; two things tell what a group missed:
 *
 * - a message the group's consumer had not delivered yet: the stream's first sequence passed the
 *   consumer's delivered sequence. Each snapshot counts the sequences that left the head above
 *   where the consumer had delivered (until it pulls past them, which the engine's refresh after
 *   an evicting publish usually precedes);
 * - a message delivered and not acked (held, nacked, waiting out an ack timeout): the server
 *   settles it as terminated and says so in a `MSG_TERMINATED` advisory. An advisory for a
 *   message still retained is a member's own `term()`, not an eviction.
 *
 * The topic's `dropped` counts each evicted sequence once, when at least one group missed it.
 * What left the head before this process first saw a consumer is not counted.
 */
export class Evictions {
  /** Stream sequences up to this one are accounted for; undefined before the first snapshot. */
  private seen: number | undefined = undefined;
  /** Per consumer: sequences up to this one are accounted for it. */
  private readonly marks = new Map<string, number>();
  /** Per consumer: messages it missed. */
  readonly missed = new Map<string, number>();
  dropped = 0;
  /** Advisories received and not yet told apart (eviction or a term). */
  private advised: { readonly consumer: string; readonly seq: number }[] = [];
  /** Terms this process sent and whose advisory has not come back: `consumer seq`. */
  private readonly termed = new Set<string>();
  /**
   * What was counted in `dropped`, so that an advisory arriving after the snapshot that counted its
   * sequence (the server sends it from another goroutine than the eviction) is not counted again:
   * ranges `(from, to]` of undelivered evictions and single advised sequences, the latest
   * {@link REMEMBERED} of each.
   */
  private readonly droppedRanges: [number, number][] = [];
  private readonly droppedSeqs = new Set<number>();

  /** A member of this process terminates `seq` (a dead letter): its advisory is not an eviction. */
  terming(consumer: string, seq: number): void {
    this.termed.add(`${consumer} ${seq}`);
  }

  /** A `MSG_TERMINATED` advisory: false when it answers this process's own term. */
  advise(consumer: string, seq: number): boolean {
    if (this.termed.delete(`${consumer} ${seq}`)) return false;
    this.advised.push({ consumer, seq });
    return true;
  }

  /** The advisories received so far, to be told apart by the snapshot read after them. */
  take(): readonly { readonly consumer: string; readonly seq: number }[] {
    const taken = this.advised;
    this.advised = [];
    return taken;
  }

  /**
   * Accounts for what left the head by `first` (the stream's first sequence, or its last + 1 when
   * empty), given every consumer's info and the advisories taken before the snapshot was asked for.
   */
  account(first: number, consumers: readonly ConsumerInfo[], advised: readonly { readonly consumer: string; readonly seq: number }[]): void {
    const gone = first - 1;
    const before = this.seen ?? gone;
    let reached = Infinity; // the lowest sequence some group had reached, among those already seen
    const live = new Set<string>();
    for (const c of consumers) {
      live.add(c.name);
      const delivered = c.delivered.stream_seq;
      const mark = this.marks.get(c.name);
      if (mark === undefined) {
        this.marks.set(c.name, Math.max(gone, delivered)); // first seen: what went before is not counted
        continue;
      }
      const from = Math.max(mark, delivered);
      reached = Math.min(reached, from);
      if (gone > from) this.add(c.name, gone - from);
      if (gone > mark) this.marks.set(c.name, gone);
    }
    const from = Math.max(before, reached);
    if (reached !== Infinity && gone > from) {
      this.dropped += gone - from;
      this.droppedRanges.push([from, gone]);
      if (this.droppedRanges.length > REMEMBERED) this.droppedRanges.shift();
    }
    for (const a of advised) {
      if (a.seq >= first || !live.has(a.consumer)) continue; // still retained: a member's term elsewhere
      this.add(a.consumer, 1);
      if (!this.droppedSeqs.has(a.seq) && !this.droppedRanges.some(([lo, hi]) => a.seq > lo && a.seq <= hi)) {
        this.droppedSeqs.add(a.seq);
        this.dropped++;
      }
    }
    for (const seq of this.droppedSeqs) {
      if (this.droppedSeqs.size <= REMEMBERED) break;
      this.droppedSeqs.delete(seq); // the oldest first: a Set iterates in insertion order
    }
    for (const seq of this.termed) if (Number(seq.slice(seq.indexOf(' ') + 1)) <= before) this.termed.delete(seq);
    for (const name of this.marks.keys()) {
      if (!live.has(name)) {
        this.marks.delete(name);
        this.missed.delete(name);
      }
    }
    this.seen = Math.max(before, gone);
  }

  private add(consumer: string, n: number): void {
    this.missed.set(consumer, (this.missed.get(consumer) ?? 0) + n);
  }
}
