import type { OperatorFunction } from 'rxjs';
import type { Topic } from '../types.js';
import { publishToMapper } from './internal/outgoing.js';
import { publishing } from './internal/publisher.js';
import * as v from './internal/validate.js';
import type { PublishToOptions } from './types.js';

/**
 * Publishes each value of any Observable to `topic` and emits its offset, in order. While the
 * topic has room each value is published (and, without a storage, its offset emitted)
 * synchronously. Under `overflow: 'block'` a full topic makes one publish wait; values arriving meanwhile queue
 * behind it, in order, up to `maxBuffered`, and one more errors the stream with
 * {@link PublishOverflowError}: an Observable cannot be told to slow down, so the bound is
 * explicit (for a source that can wait, use `publishToStream` or `topic.writable()`). Under
 * `reject` (or `grow` at `maxCapacity`) a full topic errors the stream with `TopicFullError`;
 * a closed topic with `ClosedError`.
 *
 * On a durable topic an offset is emitted once its value is synced, as `publish()` resolves
 * (publishing goes on meanwhile; offsets stay in order), so acking a source delivery when its
 * offset comes out is at-least-once on disk too.
 *
 * The stream completes once the source has completed and every value is published.
 * Unsubscribing abandons the waiting publish and the queued values (they are never published).
 *
 * @param topic The topic to publish to.
 * @param options `key` and `headers` (static, or functions of the value), `ttlMs`, `maxBuffered` (default `1024`).
 * @returns An operator from `Observable<T>` to `Observable<number>` (the offsets).
 * @throws ConfigError synchronously, for an invalid option.
 *
 * @example
 * ```ts
 * import { interval, map, take } from 'rxjs';
 * import { createBus } from 'ringbus';
 * import { publishTo } from 'ringbus/operators';
 *
 * const ticks = createBus().topic<{ n: number }>('ticks', { capacity: 1024 });
 * interval(10).pipe(take(5), map((n) => ({ n })), publishTo(ticks, { key: (t) => String(t.n % 2) }))
 *   .subscribe((offset) => console.log('published at', offset));
 * ```
 */
export function publishTo<T>(topic: Topic<T>, options?: PublishToOptions<T>): OperatorFunction<T, number> {
  v.topic('topic', topic);
  const { map, maxBuffered } = publishToMapper(options);
  const nothing = (): void => undefined;
  const fate = { published: nothing, dropped: nothing, teardown: nothing };
  return (source) => publishing<T, T>(source, topic, map, maxBuffered, () => fate);
}
