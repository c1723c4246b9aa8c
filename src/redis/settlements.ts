import type { Item } from './item.js';
import type { BackendLink } from './link.js';

/** What the settlements of a member read from it. */
export interface SettlingMember {
  readonly group: string;
  /** Its consumer name (it changes when a push face's subscriber leaves). */
  readonly consumer: string;
  /** When the last call that renewed its lease was sent (it answered). */
  readonly renewed: number;
}

/**
 * A member's settlements on their way to the server, batched per turn: acks of entries surely
 * still the member's in one lean call per group gen, every other settlement in one call that
 * checks each entry's owner and delivery count, and the count of entries plain reads delivered.
 */
export class Settlements {
  private settles: string[] = [];
  /** Acks of entries no other consumer can have taken. */
  private acks: Item[] = [];
  /** Entries plain reads handed the member that the group's `delivered` counter does not have yet. */
  delivered = 0;

  constructor(
    private readonly backend: BackendLink,
    private readonly member: SettlingMember,
  ) {}

  /** Queues one settlement (kind `a` ack, `n` nack, `t` term, `p` in progress, `r` return) for the end of the turn. */
  queue(kind: string, item: Item, arg: string): void {
    // after this turn's I/O: a loop settling what it was handed from the buffer sends one call
    if (this.settles.length === 0 && this.acks.length === 0) setImmediate(() => void this.flush());
    // an ack is checked at the flush (see surelyOwned): later than now, so no less strictly
    if (kind === 'a' && item.gen !== '') this.acks.push(item);
    else this.settles.push(kind, item.id, String(item.deliveryCount), arg);
  }

  /**
   * Whether the entry is surely still this member's on the server unless the group's gen moved:
   * it was read less than half the ack timeout ago (the server hands an entry to another consumer
   * only once it idled the whole timeout), and (checked by the caller) the lease was renewed less
   * than half of it ago (else the member may have been taken for dead). Then its ack needs no look
   * at the pending list; otherwise the settle call checks owner and delivery count on the server.
   */
  private surelyOwned(item: Item, now: number): boolean {
    return now - item.at < this.backend.ackTimeoutMs / 2;
  }

  /** Sends the `delivered` count, if any. */
  sendCounts(): void {
    if (this.delivered > 0) this.backend.count(this.member.group, 'delivered', this.takeCount());
  }

  /** The `delivered` count not sent yet, now counted as sent (an ack call carries it). */
  private takeCount(): number {
    const n = this.delivered;
    this.delivered = 0;
    return n;
  }

  /** Sends what is queued: the checked settlements in one call, the lean acks (with the count) in one per gen. */
  flush(): Promise<unknown> {
    const items: Item[] = [];
    if (this.acks.length > 0) {
      // acks no longer surely the member's are checked with the other settlements
      const now = Date.now();
      const renewed = now - this.member.renewed < this.backend.engine.leaseMs / 2;
      for (const i of this.acks) {
        if (renewed && this.surelyOwned(i, now)) items.push(i);
        else this.settles.push('a', i.id, String(i.deliveryCount), '');
      }
      this.acks = [];
    }
    if (items.length === 0) this.sendCounts();
    const { group, consumer } = this.member;
    const sent: Promise<unknown>[] = [];
    if (this.settles.length > 0) {
      const args = this.settles;
      this.settles = [];
      sent.push(this.backend.run('settle', [group, consumer, ...args]).catch(() => undefined));
    }
    if (items.length > 0) {
      const first = items[0]!.gen;
      const one = items.every((i) => i.gen === first);
      for (const gen of one ? [first] : new Set(items.map((i) => i.gen))) {
        const these = one ? items : items.filter((i) => i.gen === gen);
        const args = [group, consumer, gen, String(this.takeCount())];
        for (const i of these) args.push(i.id);
        sent.push(
          this.backend.run('ack', args).then(
            (n) => {
              if (n !== -1) return undefined;
              // the group changed under the member: each ack is checked on its own
              for (const i of these) this.queue('a', { ...i, gen: '' }, '');
              return this.flush();
            },
            () => undefined,
          ),
        );
      }
    }
    return Promise.all(sent);
  }
}
