import type { Consumer, Delivery } from '../../types.js';
import { type Notice, type ServerMessage, toColumns, type WireDelivery } from './protocol.js';

/** The most deliveries in one message: a client acks a chunk while the next is on its way. */
const CHUNK = 256;

/** One member served to the client: a consumer of the served bus, pumped up to the client's demand. */
export class ServedMember {
  private want = 0;
  private received = 0;
  private sent = 0;
  private nextToken = 0;
  private readonly held = new Map<number, Delivery<unknown>>();
  private wake: (() => void) | undefined = undefined;
  private waiting: AbortController | undefined = undefined;
  closed = false;
  /** The client's push face unsubscribed: nothing more is delivered; what it holds stays settleable. */
  left = false;

  constructor(
    readonly id: number,
    readonly consumer: Consumer<unknown>,
    private readonly post: (m: ServerMessage) => void,
  ) {}

  private get credit(): number {
    return this.want - (this.sent - this.received);
  }

  demand(want: number, received: number): void {
    this.want = want;
    this.received = received;
    if (this.credit > 0) {
      const wake = this.wake;
      this.wake = undefined;
      wake?.();
    } else this.waiting?.abort();
  }

  settle(token: number, how: Extract<Notice, { op: 'settle' }>['how']): void {
    const d = this.held.get(token);
    if (d === undefined) return;
    if (how.kind === 'inProgress') {
      d.inProgress();
      return;
    }
    this.held.delete(token);
    if (how.kind === 'ack') d.ack();
    else if (how.kind === 'nack') d.nack({ delayMs: how.delayMs });
    else d.term(how.reason);
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

  /** Leaves the group as an unsubscribed push face: held deliveries stay settleable (where the served consumer can). */
  leave(): void {
    if (this.closed || this.left) return;
    this.left = true;
    const c = this.consumer as Consumer<unknown> & { unsubscribe?(unseen: undefined): void };
    if (typeof c.unsubscribe === 'function') c.unsubscribe(undefined);
    else c.close();
    this.waiting?.abort();
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.held.clear();
    this.consumer.close(); // returns what it holds unsettled to the group
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Hands deliveries to the client while it has credit, until the consumer is done. */
  async run(): Promise<void> {
    const c = this.consumer;
    while (!this.closed && !this.left) {
      if (this.credit <= 0) {
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      let d = c.tryRecv();
      if (d === undefined) {
        const ac = new AbortController();
        this.waiting = ac;
        try {
          d = await c.recv({ signal: ac.signal });
        } catch (e) {
          if (ac.signal.aborted) continue; // the client's demand fell to what is in flight, or it left
          throw e;
        } finally {
          this.waiting = undefined;
        }
        if (d === undefined) break;
      }
      const batch: Delivery<unknown>[] = [d];
      while (batch.length < this.credit && batch.length < CHUNK && (d = c.tryRecv()) !== undefined) batch.push(d);
      this.send(batch);
    }
    if (!this.closed && !this.left) this.post({ kind: 'done', member: this.id });
  }

  private send(batch: Delivery<unknown>[]): void {
    const items: WireDelivery[] = batch.map((d) => {
      const token = this.nextToken++;
      if (!d.settled) this.held.set(token, d);
      return { token, offset: d.offset, value: d.value, key: d.key, headers: d.headers, timestamp: d.timestamp, deliveryCount: d.deliveryCount, settled: d.settled };
    });
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
        d?.term(`value cannot cross the port: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
}
