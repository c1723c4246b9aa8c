import { Observable } from 'rxjs';
import type { Delivery, PublishOptions, Topic } from '../../types.js';
import { TopicFullError } from '../../errors.js';
import { syncOf } from '../../internal/faces/sync-of.js';
import { PublishOverflowError } from '../errors.js';
import type { DeadLetterToOptions, ForwardToOptions, PublishToOptions } from '../types.js';
import type { CancellableTransformer } from './transform.js';
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

/** Turns a delivery into its forwarded message: `map` of its value, its key and headers unless told otherwise. */
export function forwardMapper<T, U>(options: ForwardToOptions<T, U> | undefined): { map: (d: Delivery<T>) => Outgoing<U>; maxBuffered: number } {
  const o = v.options<ForwardToOptions<T, U>>('forwardTo options', options, ['map', 'key', 'headers', 'ttlMs', 'maxBuffered']);
  const { map, key, headers, ttlMs } = o;
  if (map !== undefined) v.fn('map', map);
  if (key !== undefined && typeof key !== 'string' && typeof key !== 'function') v.fn('key', key);
  if (headers !== undefined && (typeof headers !== 'object' || headers === null) && typeof headers !== 'function') v.fn('headers', headers);
  if (ttlMs !== undefined) v.duration('ttlMs', ttlMs, true, true);
  const maxBuffered = o.maxBuffered === undefined ? 1024 : v.integer('maxBuffered', o.maxBuffered, 0, 2 ** 30, true);
  return {
    map: (d) => ({
      value: map === undefined ? (d.value as unknown as U) : map(d.value, d),
      options: {
        key: key === undefined ? d.key : typeof key === 'function' ? key(d) : key,
        headers: headers === undefined ? d.headers : typeof headers === 'function' ? headers(d) : headers,
        ttlMs,
      },
    }),
    maxBuffered,
  };
}

/** Runs `f` on the next macrotask. */
const nextTurn: (f: () => void) => void = typeof setImmediate === 'function' ? (f) => void setImmediate(f) : (f) => void setTimeout(f, 0);

/** Most chunks a stream twin has published to a durable topic and not yet reported; one more write waits. */
const MAX_UNSYNCED = 1024;

/** What a stream twin does with an input once its fate is known. */
export interface StreamFate<I> {
  /** Published (on a durable topic: synced); its offset is emitted right after. */
  published(input: I): void;
  /** Not published: the stream errors. */
  dropped(input: I): void;
}

/** `publishToStream`: nothing to settle. */
export const NO_FATE: StreamFate<unknown> = { published: () => undefined, dropped: () => undefined };

/** The stream twins that settle their source deliveries: ack once published, nack when not. */
export const SETTLE_FATE: StreamFate<Delivery<unknown>> = { published: (d) => void d.ack(), dropped: (d) => void d.nack() };

/**
 * The transformer of the publishing stream twins: publishes each chunk's message and emits its
 * offset, in order, once the message is accepted — in the ring and, on a durable topic, synced,
 * as `await publish()` resolves — telling `fate` first. A write waits while the topic has no
 * room (`overflow: 'block'`). On a durable topic publishing goes on while earlier chunks wait
 * for their sync (one sync covers many; at most {@link MAX_UNSYNCED} wait), and the stream
 * closes once every chunk is reported. A chunk that cannot be published (a closed or full
 * topic, a throwing `map`, a failed sync) is dropped and errors the stream; so is every chunk
 * after it that was not reported yet.
 */
export function publishingTransformer<I, V>(topic: Topic<V>, map: (input: I) => Outgoing<V>, fate: StreamFate<I>): CancellableTransformer<I, number> {
  const abort = new AbortController();
  const sync = syncOf(topic);
  // One sync per turn: a stream hands chunks over through promise callbacks, so a sync asked for
  // at each chunk would start (a store starts its batch on a microtask) before the next chunk is
  // published, one sync per chunk; asked for on the next turn, it covers every chunk of this one.
  let turnSync: Promise<void> | undefined;
  const syncSoon = (): Promise<void> =>
    (turnSync ??= new Promise<void>((resolve) => nextTurn(resolve)).then(() => {
      turnSync = undefined;
      return (sync as () => Promise<void>)();
    }));
  let chain: Promise<void> = Promise.resolve();
  let unsynced = 0;
  let failure: { error: unknown } | undefined;
  return {
    transform(input, controller) {
      if (failure !== undefined) {
        fate.dropped(input);
        throw failure.error;
      }
      let r: number | Promise<number>;
      try {
        r = publishOne(topic, map(input), abort.signal);
      } catch (e) {
        fate.dropped(input);
        if (unsynced === 0) throw e;
        // the chunks before it are published: report them before the stream errors
        return chain.then(() => {
          throw e;
        });
      }
      if (sync === undefined) {
        if (typeof r === 'number') {
          fate.published(input);
          controller.enqueue(r);
          return;
        }
        return r.then(
          (offset) => {
            fate.published(input);
            controller.enqueue(offset);
          },
          (e: unknown) => {
            fate.dropped(input);
            throw e;
          },
        );
      }
      // durable: reported once synced, in order (a waiting publish resolves once synced)
      const offset = r;
      const accepted = typeof offset === 'number' ? syncSoon().then(() => offset) : offset;
      const outcome = accepted.then(
        (o): number | { error: unknown } => o,
        (e: unknown) => ({ error: e }),
      );
      unsynced++;
      chain = chain.then(() => outcome).then((o) => {
        unsynced--;
        if (typeof o === 'number' && failure === undefined) {
          fate.published(input);
          try {
            controller.enqueue(o);
          } catch {
            // the readable side was cancelled: the message is published all the same
          }
          return;
        }
        if (typeof o !== 'number') failure ??= { error: o.error }; // else an earlier chunk failed: this one goes with it
        fate.dropped(input);
        try {
          controller.error((failure as { error: unknown }).error);
        } catch {
          // already errored or closed
        }
      });
      if (typeof offset !== 'number') return outcome.then(() => undefined); // waited for room
      if (unsynced >= MAX_UNSYNCED) return chain;
    },
    flush() {
      return chain.then(() => {
        if (failure !== undefined) throw failure.error;
      });
    },
    cancel(reason) {
      abort.abort(reason);
    },
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
