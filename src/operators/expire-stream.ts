import type { Delivery } from '../types.js';
import { expireSettings } from './internal/settings.js';
import type { ExpireOptions } from './types.js';

/** The stream {@link expireStream} returns: also counts what it dropped. */
export interface ExpireStream<T> extends TransformStream<Delivery<T>, Delivery<T>> {
  /** Deliveries dropped (acked) so far. */
  readonly expired: number;
}

/**
 * The web-stream twin of {@link expire}: drops (acks) the deliveries older than `ms` when they
 * are written, counting them in `expired` and reporting each to `onExpired`.
 *
 * @param ms Most age kept, in ms. Number ≥ 0 or `Infinity`.
 * @param options `scheduler` (default `asyncScheduler`; use the topic's), `onExpired(delivery, ageMs)`.
 * @returns An {@link ExpireStream}: a `TransformStream` with an `expired` count.
 * @throws ConfigError synchronously, for an invalid argument.
 *
 * @example
 * ```ts
 * import { createBus } from 'ringbus';
 * import { expireStream } from 'ringbus/operators';
 *
 * const quotes = createBus().topic<number>('quotes', { groups: ['ui'] });
 * const fresh = expireStream<number>(5_000);
 * const readable = quotes.readable({ group: 'ui' }).pipeThrough(fresh);
 * console.log(fresh.expired);
 * ```
 */
export function expireStream<T>(ms: number, options?: ExpireOptions<T>): ExpireStream<T> {
  const { scheduler, onExpired } = expireSettings(ms, options);
  let expired = 0;
  const stream = new TransformStream<Delivery<T>, Delivery<T>>({
    transform(d, controller) {
      const age = scheduler.now() - d.timestamp;
      if (!(age > ms)) {
        controller.enqueue(d);
        return;
      }
      d.ack();
      expired++;
      onExpired?.(d, age);
    },
  });
  return Object.defineProperty(stream, 'expired', { get: () => expired, enumerable: true }) as ExpireStream<T>;
}
