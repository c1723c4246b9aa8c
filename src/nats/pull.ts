import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';

const ACK = new TextEncoder().encode('+ACK');
const NAK = new TextEncoder().encode('-NAK');
const WPI = new TextEncoder().encode('+WPI');
const TERM = new TextEncoder().encode('+TERM');

/**
 * Acknowledgements of one connection, sent together once the turn that settled them is over: a
 * loop that settles a whole batch of deliveries costs one socket write, not one per message.
 * Only `+ACK` waits here; it is the last word on its message, so nothing sent later for the same
 * message can overtake it.
 */
export class AckBatch {
  private replies: string[] = [];
  private scheduled = false;

  constructor(private readonly nc: NatsConnection) {}

  add(reply: string): void {
    this.replies.push(reply);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.send());
    }
  }

  /** Sends what waits now (before a flush, a drain or a close). */
  send(): void {
    this.scheduled = false;
    const replies = this.replies;
    if (replies.length === 0) return;
    this.replies = [];
    if (this.nc.isClosed()) return; // the server redelivers them after the ack wait
    for (const r of replies) this.nc.publish(r, ACK);
  }
}

/**
 * One message pulled from a consumer, settled on its reply subject with JetStream's ack protocol
 * (`+ACK`, `-NAK`, `+WPI`, `+TERM`).
 */
export class PulledMessage {
  readonly seq: number;
  /** The consumer's delivery sequence: one more for every delivery it makes, to any member. */
  readonly consumerSeq: number;
  readonly deliveryCount: number;
  /** The server's timestamp, in epoch ms. */
  readonly timestamp: number;

  constructor(
    private readonly nc: NatsConnection,
    private readonly acks: AckBatch,
    readonly data: Uint8Array,
    private readonly reply: string,
  ) {
    // $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ts>.<pending>, with a
    // domain and an account hash after ACK in the newer form (12 tokens and more)
    const t = reply.split('.');
    const at = t.length >= 11 ? 4 : 2;
    this.deliveryCount = Number(t[at + 2]);
    this.seq = Number(t[at + 3]);
    this.consumerSeq = Number(t[at + 4]);
    this.timestamp = Number(t[at + 5]!.slice(0, -6)); // nanoseconds: the whole milliseconds are all but the last six digits
  }

  ack(): void {
    this.acks.add(this.reply);
  }

  nak(delayMs?: number): void {
    this.nc.publish(this.reply, delayMs === undefined ? NAK : `-NAK ${JSON.stringify({ delay: delayMs * 1_000_000 })}`);
  }

  working(): void {
    this.nc.publish(this.reply, WPI);
  }

  term(reason?: string): void {
    this.nc.publish(this.reply, reason === undefined ? TERM : `+TERM ${reason}`);
  }
}

/** How long one pull request waits at the server for messages. */
const EXPIRES_MS = 2_000;

/**
 * Pull requests to one consumer, answered on one inbox: JetStream sends the messages of every
 * request in order on it, so several requests can be in flight (the client library's `fetch`
 * takes a subscription per request, whose messages can then reach the buffer out of order).
 * `outstanding` is how many messages the requests in flight may still bring.
 */
export class PullSubscription {
  private readonly inbox = createInbox();
  private readonly sub: Subscription;
  /** What each request in flight may still bring, oldest first. */
  private readonly requests: number[] = [];
  outstanding = 0;
  private closing = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly acks: AckBatch,
    private readonly subject: string,
    private readonly onMessage: (m: PulledMessage) => void,
    /** A request ended (expired, or the consumer is gone: `gone`). */
    private readonly onEnd: (gone: boolean) => void,
  ) {
    this.sub = nc.subscribe(this.inbox, { callback: (_, msg) => this.receive(msg) });
  }

  /** Asks for up to `batch` messages. */
  request(batch: number): void {
    if (this.closing) return;
    this.requests.push(batch);
    this.outstanding += batch;
    this.nc.publish(this.subject, JSON.stringify({ batch, expires: EXPIRES_MS * 1_000_000 }), { reply: this.inbox });
  }

  private receive(msg: Msg): void {
    const code = msg.headers?.code ?? 0;
    if (code === 0 && msg.reply !== undefined) {
      this.took(1);
      this.onMessage(new PulledMessage(this.nc, this.acks, msg.data, msg.reply));
      return;
    }
    if (code === 100) return; // an idle heartbeat
    // 404/408: the request ended with messages left; 409: the consumer is gone, or the request was refused
    const pending = Number(msg.headers?.get('Nats-Pending-Messages'));
    const left = Number.isFinite(pending) && pending > 0 ? pending : (this.requests[0] ?? 0);
    this.requests.shift();
    this.outstanding = Math.max(0, this.outstanding - left);
    const gone = code === 409 && /deleted/i.test(msg.headers?.description ?? '');
    this.onEnd(gone);
  }

  private took(n: number): void {
    this.outstanding = Math.max(0, this.outstanding - n);
    while (n > 0 && this.requests.length > 0) {
      const take = Math.min(n, this.requests[0]!);
      this.requests[0]! -= take;
      n -= take;
      if (this.requests[0] === 0) this.requests.shift();
    }
  }

  /**
   * Stops asking and unsubscribes: the server drops a waiting pull request whose inbox has no
   * listener, so the requests in flight take nothing more (what was already under way arrives
   * nowhere and comes back after the ack wait).
   */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.unsubscribe();
  }

  private unsubscribe(): void {
    if (!this.nc.isClosed()) this.sub.unsubscribe();
  }
}
