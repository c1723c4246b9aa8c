import type { DeliveryRecord, MemberListener, MemberPort, Settlement } from '../../engine.js';
import { type ServerMessage, toColumns, toWire, type WireDelivery } from './protocol.js';

/** The most deliveries in one message: a client acks a chunk while the next is on its way. */
const CHUNK = 256;

/**
 * One member served to the client: a member port of the served bus's topic, polled up to the
 * client's credit (its demand less what is on the way) whenever it is ready.
 */
export class ServedMember implements MemberListener {
  private want = 0;
  private received = 0;
  private sent = 0;
  private nextToken = 0;
  private readonly held = new Map<number, DeliveryRecord<unknown>>();
  private pumping = false;
  private again = false;
  private finished = false;
  closed = false;
  /** The client's push face unsubscribed: nothing more is delivered; what it holds stays settleable. */
  left = false;

  constructor(
    readonly id: number,
    readonly member: MemberPort<unknown>,
    private readonly post: (m: ServerMessage) => void,
    /** Tells the client which of its deliveries went stale: called before it is sent a redelivery. */
    private readonly reportStale: () => void,
  ) {
    member.onReady = this;
  }

  private get credit(): number {
    return this.want - (this.sent - this.received);
  }

  demand(want: number, received: number): void {
    this.want = want;
    this.received = received;
    this.member.desiredSize = Math.max(0, this.credit);
    this.ready();
  }

  settle(token: number, how: Settlement): void {
    const d = this.held.get(token);
    if (d === undefined) return;
    if (how.kind !== 'inProgress') this.held.delete(token);
    d.settle(how);
  }

  /** Tokens of deliveries that went stale since the last look. */
  stale(): number[] | undefined {
    let out: number[] | undefined;
    for (const [token, d] of this.held) {
      if (d.settled) {
        this.held.delete(token);
        (out ??= []).push(token);
      }
    }
    return out;
  }

  get holding(): number {
    return this.held.size;
  }

  /** Leaves the group as an unsubscribed push face: held deliveries stay settleable. */
  leave(): void {
    if (this.closed || this.left) return;
    this.left = true;
    this.member.leave();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.held.clear();
    void this.member.close(); // returns what it holds unsettled to the group
  }

  /**
   * The member may have something: hands it to the client while it has credit, in a microtask, so
   * that what the rest of this task adds (a run of publishes wakes the member once per message)
   * goes in one batch instead of a chunk per message.
   */
  ready(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(this.pumpSoon);
  }

  private scheduled = false;
  private readonly pumpSoon = (): void => {
    this.scheduled = false;
    this.pumpNow();
  };

  /** Hands deliveries to the client while it has credit (a call from inside the loop runs it again). */
  private pumpNow(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        this.pump();
      } while (this.again);
    } finally {
      this.pumping = false;
    }
  }

  private pump(): void {
    if (this.closed || this.left || this.finished) return;
    const m = this.member;
    for (;;) {
      const most = Math.min(this.credit, CHUNK);
      let batch: DeliveryRecord<unknown>[] | undefined;
      let d: DeliveryRecord<unknown> | undefined;
      while ((batch?.length ?? 0) < most && (d = m.poll()) !== undefined) (batch ??= []).push(d);
      if (batch === undefined) break;
      this.send(batch);
      if (batch.length < CHUNK) break;
    }
    if (m.done && !this.closed && !this.left) {
      this.finished = true;
      this.post(m.error === undefined ? { kind: 'done', member: this.id } : { kind: 'done', member: this.id, error: toWire(m.error) });
    } else m.desiredSize = Math.max(0, this.credit);
  }

  private send(batch: DeliveryRecord<unknown>[]): void {
    const items: WireDelivery[] = batch.map((d) => {
      const token = this.nextToken++;
      if (!d.settled) this.held.set(token, d);
      return { token, offset: d.offset, value: d.value, key: d.key, headers: d.headers, timestamp: d.timestamp, deliveryCount: d.deliveryCount, settled: d.settled };
    });
    // a message comes back after it went stale in some member's hands: the client learns that first
    if (batch.some((d) => d.deliveryCount > 1)) this.reportStale();
    this.sent += items.length;
    this.post(toColumns(this.id, items));
  }

  /**
   * The batch holding these deliveries could not be cloned: sends them one by one, and
   * dead-letters a value that cannot be cloned (it never can) rather than redeliver it forever.
   */
  unsendable(items: readonly WireDelivery[], postNow: (m: ServerMessage) => void): void {
    for (const item of items) {
      try {
        postNow(toColumns(this.id, [item]));
      } catch (e) {
        this.sent--;
        const d = this.held.get(item.token);
        this.held.delete(item.token);
        d?.settle({ kind: 'term', reason: `value cannot cross the port: ${e instanceof Error ? e.message : String(e)}` });
      }
    }
  }
}
