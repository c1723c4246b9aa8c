import { Observable } from 'rxjs';
import type { Delivery, PublishOptions, Topic } from '../../types.js';
import { TopicFullError } from '../../errors.js';
import { PublishOverflowError } from '../errors.js';
import type { DeadLetterToOptions, PublishToOptions } from '../types.js';
import { subscribeInner } from './inner.js';
import { Queue } from './queue.js';
import * as v from './validate.js';

/** What one input becomes: the value and the publish options. */
export interface Outgoing<V> {
  readonly value: V;
  readonly options: PublishOptions<V> | undefined;
}

/**
 * Publishes one value: `tryPublish` when there is room now (a `tryPublish` that returns true
 * took the offset `topic.tail` had just before), else `publish`, which waits under
 * `overflow: 'block'`; under any other policy the refusal `tryPublish` already counted is final.
 */
export function publishOne<V>(topic: Topic<V>, out: Outgoing<V>, signal: AbortSignal): number | Promise<number> {
  const tail = topic.tail;
  if (topic.tryPublish(out.value, out.options)) return tail;
  if (topic.overflow !== 'block') return Promise.reject(new TopicFullError(topic.name, topic.stats().capacity));
  return topic.publish(out.value, out.options === undefined ? { signal } : { ...out.options, signal });
}

/** Turns `publishTo` options into a per-value mapping (no allocation per value when static). */
export function publishToMapper<T>(options: PublishToOptions<T> | undefined): { map: (value: T) => Outgoing<T>; maxBuffered: number } {
  const o = v.options<PublishToOptions<T>>('publishTo options', options, ['key', 'headers', 'ttlMs', 'maxBuffered']);
  const { key, headers, ttlMs } = o;
  if (key !== undefined && typeof key !== 'string' && typeof key !== 'function') v.fn('key', key);
  if (headers !== undefined && (typeof headers !== 'object' || headers === null) && typeof headers !== 'function') v.fn('headers', headers);
  if (ttlMs !== undefined) v.duration('ttlMs', ttlMs, true, true);
  const maxBuffered = o.maxBuffered === undefined ? 1024 : v.integer('maxBuffered', o.maxBuffered, 0, 2 ** 30, true);
  if (typeof key !== 'function' && typeof headers !== 'function') {
    const fixed = key === undefined && headers === undefined && ttlMs === undefined ? undefined : { key, headers, ttlMs };
    return { map: (value) => ({ value, options: fixed }), maxBuffered };
  }
  return {
    map: (value) => ({
      value,
      options: {
        key: typeof key === 'function' ? key(value) : key,
        headers: typeof headers === 'function' ? headers(value) : headers,
        ttlMs,
      },
    }),
    maxBuffered,
  };
}

/** Turns a delivery into its dead letter: same value and key, the original headers plus the `x-*` ones. */
export function deadLetterMapper<T>(options: DeadLetterToOptions<T> | undefined): { map: (d: Delivery<T>) => Outgoing<T>; maxBuffered: number } {
  const o = v.options<DeadLetterToOptions<T>>('deadLetterTo options', options, ['detail', 'maxBuffered']);
  const { detail } = o;
  if (detail !== undefined && typeof detail !== 'string') v.fn('detail', detail);
  const maxBuffered = o.maxBuffered === undefined ? 1024 : v.integer('maxBuffered', o.maxBuffered, 0, 2 ** 30, true);
  return {
    map: (d) => {
      const headers: Record<string, string> = {
        ...d.headers,
        'x-dead-letter-reason': 'terminated',
        'x-original-topic': d.topic,
        'x-original-offset': String(d.offset),
        'x-original-group': d.group,
        'x-deliveries': String(d.deliveryCount),
      };
      const text = typeof detail === 'function' ? detail(d) : detail;
      if (text !== undefined) headers['x-dead-letter-detail'] = String(text);
      return { value: d.value, options: d.key === undefined ? { headers } : { key: d.key, headers } };
    },
    maxBuffered,
  };
}

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

/**
 * Publishes inputs in order: straight through while the topic has room, one `publish()`
 * waiting when it has none, and at most `maxBuffered` more inputs queued behind it.
 */
export class OrderedPublisher<I, V> {
  private readonly queue = new Queue<I>();
  private readonly abort = new AbortController();
  private waiting = false;
  private draining = false;
  private sourceDone = false;
  private ended = false;

  constructor(
    private readonly topic: Topic<V>,
    private readonly map: (input: I) => Outgoing<V>,
    private readonly maxBuffered: number,
    private readonly sink: PublisherSink<I>,
  ) {}

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

  fail(e: unknown): void {
    if (this.ended) return;
    this.stop();
    this.sink.error(e);
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

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (!this.ended && !this.waiting && this.queue.length > 0) this.publish(this.queue.shift() as I);
    } finally {
      this.draining = false;
    }
    if (!this.ended && this.sourceDone && !this.waiting && this.queue.length === 0) {
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
