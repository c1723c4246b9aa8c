import { ClosedError } from '../../errors.js';
import type { Consumer, Delivery } from '../../types.js';
import type { TopicImpl } from './topic.js';
import { options as checkOptions } from '../validate.js';
import { bornMutable } from './hot/born.js';

const SEND_KEYS = ['signal'] as const;

/** The sending half of a {@link channel}. */
export interface Sender<T> {
  /** Sends; waits while the channel is full (until acks drain it to half, or at once when a receiver waits). Resolves to the offset. */
  send(value: T, options?: { signal?: AbortSignal }): Promise<number>;
  /** Sends if there is room now; never waits. */
  trySend(value: T): boolean;
  /** Another sender on the same channel; the channel closes once every sender has closed. */
  clone(): Sender<T>;
  /** Closes this sender. When the last one closes, receivers drain what is left, then get `undefined`. */
  close(): void;
  readonly closed: boolean;
}

/** The receiving half of a {@link channel}: a member of the channel's one durable group. */
export interface Receiver<T> extends AsyncIterable<Delivery<T>>, Disposable {
  recv(options?: { signal?: AbortSignal }): Promise<Delivery<T> | undefined>;
  tryRecv(): Delivery<T> | undefined;
  recvTimeout(ms: number, options?: { signal?: AbortSignal }): Promise<Delivery<T> | undefined>;
  recvBatch(max: number, options?: { signal?: AbortSignal }): Promise<Delivery<T>[]>;
  /** Another competing receiver on the same backlog. */
  resubscribe(): Receiver<T>;
  /** Leaves; every unsettled delivery goes back to the channel for the other receivers. */
  close(): void;
  readonly closed: boolean;
}

export class SenderImpl<T> implements Sender<T> {
  closed = false;
  constructor(
    private readonly topic: TopicImpl<T>,
    private readonly live: { senders: number },
  ) {
    live.senders++;
    bornMutable(this, 'closed');
  }

  send(value: T, options?: { signal?: AbortSignal }): Promise<number> {
    if (this.closed) return Promise.reject(new ClosedError('sender is closed'));
    if (options === undefined) return this.topic.publish(value);
    let o: { signal?: AbortSignal };
    try {
      o = checkOptions<{ signal?: AbortSignal }>('send options', options, SEND_KEYS);
    } catch (e) {
      return Promise.reject(e); // a promise-returning method never throws
    }
    return this.topic.publish(value, o.signal === undefined ? undefined : { signal: o.signal });
  }

  trySend(value: T): boolean {
    if (this.closed) throw new ClosedError('sender is closed');
    // `=== true`: a boolean V8 can see, so the caller's `!` is one compare, not a truthiness test of
    // whatever `tryPublish`'s out-of-line path returns
    return this.topic.tryPublish(value) === true;
  }

  clone(): Sender<T> {
    if (this.closed) throw new ClosedError('sender is closed');
    return new SenderImpl(this.topic, this.live);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (--this.live.senders === 0) void this.topic.close();
  }
}

export class ReceiverImpl<T> implements Receiver<T> {
  private readonly c: Consumer<T>;
  constructor(
    private readonly topic: TopicImpl<T>,
    private readonly prefetch: number,
    private readonly returnOnGc: boolean,
  ) {
    this.c = topic.open({ group: 'channel', prefetch, returnOnGc });
  }

  get closed(): boolean {
    return this.c.closed;
  }
  recv(options?: { signal?: AbortSignal }): Promise<Delivery<T> | undefined> {
    return this.c.recv(options);
  }
  tryRecv(): Delivery<T> | undefined {
    return this.c.tryRecv();
  }
  recvTimeout(ms: number, options?: { signal?: AbortSignal }): Promise<Delivery<T> | undefined> {
    return this.c.recvTimeout(ms, options);
  }
  recvBatch(max: number, options?: { signal?: AbortSignal }): Promise<Delivery<T>[]> {
    return this.c.recvBatch(max, options);
  }
  resubscribe(): Receiver<T> {
    return new ReceiverImpl(this.topic, this.prefetch, this.returnOnGc);
  }
  close(): void {
    this.c.close();
  }
  [Symbol.dispose](): void {
    this.c.close();
  }
  [Symbol.asyncIterator](): AsyncIterator<Delivery<T>> {
    return this.c[Symbol.asyncIterator]();
  }
}
