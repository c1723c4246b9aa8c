import { JetStreamApiError } from '@nats-io/jetstream';
import { ClosedConnectionError, createInbox, type Msg, type NatsConnection, NoRespondersError, type Subscription } from '@nats-io/transport-node';
import { TimeoutError } from '../errors.js';

/** How long a publish waits for the server's acknowledgement (the JetStream client's default). */
const ACK_TIMEOUT_MS = 5_000;

interface Waiting {
  readonly subject: string;
  readonly sentAt: number;
  resolve(seq: number): void;
  reject(e: unknown): void;
}

interface PubAckJson {
  readonly seq?: number;
  readonly error?: { readonly code: number; readonly err_code: number; readonly description: string };
}

const text = new TextDecoder();

/**
 * Publishes to JetStream and matches the acknowledgements on one inbox subscription, with one
 * timer for every publish in flight. `js.publish` makes a request per message (a timer and, for
 * its async stack traces, error objects each), which costs more than the publish itself when
 * hundreds are in flight. Errors are those of `js.publish`: `JetStreamApiError` with JetStream's
 * code, `NoRespondersError` when no stream takes the subject.
 */
export class AckedPublisher {
  private readonly inbox = createInbox();
  private sub: Subscription | undefined = undefined;
  private readonly waiting = new Map<string, Waiting>();
  private next = 0;
  private sweep: ReturnType<typeof setInterval> | undefined = undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs = ACK_TIMEOUT_MS,
  ) {}

  /** Publishes `data` to `subject`; resolves to its stream sequence. */
  publish(subject: string, data: Uint8Array): Promise<number> {
    if (this.nc.isClosed()) return Promise.reject(new ClosedConnectionError());
    this.subscribe();
    const token = (this.next++).toString(36);
    return new Promise<number>((resolve, reject) => {
      this.waiting.set(token, { subject, sentAt: Date.now(), resolve, reject });
      try {
        this.nc.publish(subject, data, { reply: `${this.inbox}.${token}` });
      } catch (e) {
        this.waiting.delete(token);
        reject(e);
        return;
      }
      this.sweep ??= this.startSweep();
    });
  }

  private subscribe(): void {
    if (this.sub === undefined) {
      const prefix = this.inbox.length + 1;
      this.sub = this.nc.subscribe(`${this.inbox}.*`, { callback: (_, msg) => this.answer(msg.subject.slice(prefix), msg) });
      // the subscription ends with the connection: nothing in flight will be answered
      void this.sub.closed.then(() => this.failAll(new ClosedConnectionError()));
    }
  }

  private answer(token: string, msg: Msg): void {
    const w = this.waiting.get(token);
    if (w === undefined) return; // timed out already
    this.waiting.delete(token);
    if (msg.headers?.code === 503) {
      w.reject(new NoRespondersError(w.subject));
      return;
    }
    let ack: PubAckJson;
    try {
      ack = JSON.parse(text.decode(msg.data)) as PubAckJson;
    } catch (e) {
      w.reject(e);
      return;
    }
    if (ack.error !== undefined) w.reject(new JetStreamApiError(ack.error));
    else if (typeof ack.seq === 'number') w.resolve(ack.seq);
    else w.reject(new Error(`invalid PubAck from the NATS server: ${text.decode(msg.data)}`));
  }

  /** One timer fails the publishes whose acknowledgement is overdue, oldest first (the map keeps sending order). */
  private startSweep(): ReturnType<typeof setInterval> {
    const timer = setInterval(() => {
      const due = Date.now() - this.timeoutMs;
      for (const [token, w] of this.waiting) {
        if (w.sentAt > due) break;
        this.waiting.delete(token);
        w.reject(new TimeoutError(`no acknowledgement from the NATS server within ${this.timeoutMs} ms for a publish to \`${w.subject}\``));
      }
      if (this.waiting.size === 0) {
        clearInterval(timer);
        this.sweep = undefined;
      }
    }, Math.max(10, this.timeoutMs / 5));
    (timer as { unref?: () => void }).unref?.();
    return timer;
  }

  private failAll(e: unknown): void {
    const all = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of all) w.reject(e);
    this.sub = undefined;
  }
}
