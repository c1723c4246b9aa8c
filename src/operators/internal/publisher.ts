import { Observable } from 'rxjs';
import type { Topic } from '../../types.js';
import { syncOf } from '../../internal/faces/sync-of.js';
import { PublishOverflowError } from '../errors.js';
import { subscribeInner } from './inner.js';
import { publishOne, type Outgoing } from './outgoing.js';
import { Queue } from './queue.js';

/** Where an {@link OrderedPublisher} reports. */
export interface PublisherSink<I> {
  /** `input` was published at `offset` (called even after `stop()`, so a delivery can be acked). */
  published(input: I, offset: number): void;
  /** `input` was not published (the publisher stopped, or publishing failed). */
  dropped(input: I): void;
  /** Emits an offset, in input order. */
  next(offset: number): void;
  error(e: unknown): void;
  complete(): void;
}

/** An input published to a durable topic, waiting for the sync that makes it accepted. */
interface Unsynced<I> {
  readonly input: I;
  offset: number;
  /** 0 waiting, 1 synced, 2 failed */
  state: 0 | 1 | 2;
}

/**
 * Publishes inputs in order: straight through while the topic has room, one `publish()`
 * waiting when it has none, and at most `maxBuffered` more inputs queued behind it. On a
 * durable topic an input counts as published (the sink hears of it, its offset is emitted)
 * only once the topic's storage has synced it, as a resolved `publish()`; publishing goes on
 * meanwhile, so one sync covers many inputs.
 */
export class OrderedPublisher<I, V> {
  private readonly queue = new Queue<I>();
  private readonly abort = new AbortController();
  private readonly sync: (() => Promise<void>) | undefined;
  /** Durable topic: inputs published and not yet reported, in input order. */
  private readonly unsynced = new Queue<Unsynced<I>>();
  /** Durable topic: the error to report once every input before it is reported. */
  private failure: { error: unknown } | undefined = undefined;
  private waiting = false;
  private draining = false;
  private sourceDone = false;
  private ended = false;

  constructor(
    private readonly topic: Topic<V>,
    private readonly map: (input: I) => Outgoing<V>,
    private readonly maxBuffered: number,
    private readonly sink: PublisherSink<I>,
  ) {
    this.sync = syncOf(topic);
  }

  push(input: I): void {
    if (this.ended) return this.sink.dropped(input);
    if (this.waiting || this.queue.length > 0) {
      if (this.queue.length >= this.maxBuffered) {
        this.sink.dropped(input);
        this.fail(new PublishOverflowError(this.topic.name, this.topic.stats().capacity, this.maxBuffered));
        return;
      }
      this.queue.push(input);
      return;
    }
    this.publish(input);
    this.drain();
  }

  /** The source completed: complete once everything is published. */
  end(): void {
    this.sourceDone = true;
    this.drain();
  }

  /** Stops and errors; inputs already published to a durable topic are reported first, as they sync. */
  fail(e: unknown): void {
    if (this.ended) return;
    this.stop();
    if (this.unsynced.length === 0) this.sink.error(e);
    else this.failure = { error: e };
  }

  /** Stops: aborts the waiting publish, drops what is queued. Idempotent. */
  stop(): void {
    if (this.ended) return;
    this.ended = true;
    this.abort.abort(new DOMException('publishing stopped: the subscription ended', 'AbortError'));
    for (const input of this.queue.drain()) this.sink.dropped(input);
  }

  private publish(input: I): void {
    let r: number | Promise<number>;
    try {
      r = publishOne(this.topic, this.map(input), this.abort.signal);
    } catch (e) {
      this.sink.dropped(input);
      this.fail(e);
      return;
    }
    const sync = this.sync;
    if (sync !== undefined) {
      const u: Unsynced<I> = { input, offset: -1, state: 0 };
      this.unsynced.push(u);
      if (typeof r === 'number') {
        u.offset = r;
        sync().then(
          () => this.synced(u, 1, undefined),
          (e: unknown) => this.synced(u, 2, e),
        );
        return;
      }
      this.waiting = true;
      r.then(
        (offset) => {
          this.waiting = false;
          u.offset = offset; // a waiting publish resolves once synced
          this.synced(u, 1, undefined);
        },
        (e: unknown) => {
          this.waiting = false;
          this.synced(u, 2, e);
        },
      );
      return;
    }
    if (typeof r === 'number') {
      this.sink.published(input, r);
      if (!this.ended) this.sink.next(r);
      return;
    }
    this.waiting = true;
    r.then(
      (offset) => {
        this.waiting = false;
        this.sink.published(input, offset);
        if (this.ended) return;
        this.sink.next(offset);
        this.drain();
      },
      (e: unknown) => {
        this.waiting = false;
        this.sink.dropped(input);
        this.fail(e);
      },
    );
  }

  /** Durable topic: `u` is synced (or failed); reports every input up to the first still waiting, in order. */
  private synced(u: Unsynced<I>, state: 1 | 2, error: unknown): void {
    u.state = state;
    const q = this.unsynced;
    for (let first = q.peek(); first !== undefined && first.state !== 0; first = q.peek()) {
      q.shift();
      if (first.state === 2) this.sink.dropped(first.input);
      else {
        this.sink.published(first.input, first.offset);
        if (!this.ended || this.failure !== undefined) this.sink.next(first.offset);
      }
    }
    if (state === 2) this.fail(error);
    const failure = this.failure;
    if (failure !== undefined && q.length === 0) {
      this.failure = undefined;
      this.sink.error(failure.error);
      return;
    }
    this.drain();
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (!this.ended && !this.waiting && this.queue.length > 0) this.publish(this.queue.shift() as I);
    } finally {
      this.draining = false;
    }
    if (!this.ended && this.sourceDone && !this.waiting && this.queue.length === 0 && this.unsynced.length === 0) {
      this.ended = true;
      this.sink.complete();
    }
  }
}

/**
 * The Observable both publishing operators return: subscribes to `source`, publishes each input
 * in order through an {@link OrderedPublisher}, emits the offsets. `fates()` is called once per
 * subscription: its `published`/`dropped` see each input's fate, its `teardown` runs after the
 * source is unsubscribed and the publisher stopped.
 */
export function publishing<I, V>(
  source: Observable<I>,
  topic: Topic<V>,
  map: (input: I) => Outgoing<V>,
  maxBuffered: number,
  fates: () => { published(input: I): void; dropped(input: I): void; teardown(): void },
): Observable<number> {
  return new Observable<number>((subscriber) => {
    const fate = fates();
    const publisher = new OrderedPublisher<I, V>(topic, map, maxBuffered, {
      published: (input) => fate.published(input),
      dropped: (input) => fate.dropped(input),
      next: (offset) => subscriber.next(offset),
      error: (e) => subscriber.error(e),
      complete: () => subscriber.complete(),
    });
    const inner = subscribeInner(subscriber, source, {
      next: (input) => publisher.push(input),
      error: (e) => publisher.fail(e),
      complete: () => publisher.end(),
    });
    return () => {
      inner.unsubscribe(); // a ringbus source returns what it handed out unsettled
      publisher.stop();
      fate.teardown();
    };
  });
}
