import { Observable, type OperatorFunction } from 'rxjs';
import type { Delivery } from '../types.js';
import { subscribeInner } from './internal/inner.js';
import { expireSettings } from './internal/settings.js';
import type { ExpireOptions } from './types.js';

/** The operator {@link expire} returns: also counts what it dropped. */
export interface ExpireOperator<T> extends OperatorFunction<Delivery<T>, Delivery<T>> {
  /** Deliveries dropped (acked) so far, over every subscription of this operator. */
  readonly expired: number;
}

/**
 * Drops the deliveries older than `ms` when they arrive (`scheduler.now() - timestamp > ms`),
 * acking them so they settle for the group, and counts them: read `operator.expired`, or pass
 * `onExpired` to see each one. For consumers that want fresher data than the topic's `ttlMs`
 * (which expires messages for every group, unseen).
 *
 * `timestamp` is the publish time on the topic's scheduler, so pass that scheduler here (the
 * default `asyncScheduler` matches a topic on the default scheduler).
 *
 * @param ms Most age kept, in ms. Number ≥ 0 or `Infinity`.
 * @param options `scheduler` (default `asyncScheduler`), `onExpired(delivery, ageMs)`.
 * @returns An {@link ExpireOperator}: an operator with an `expired` count.
 * @throws ConfigError synchronously, for an invalid argument.
 *
 * @example
 * ```ts
 * import { createBus } from 'ringbus';
 * import { expire } from 'ringbus/operators';
 *
 * const quotes = createBus().topic<number>('quotes', { groups: ['ui'] });
 * const fresh = expire<number>(5_000, { onExpired: (d, age) => console.debug(`stale by ${age} ms`, d.offset) });
 * quotes.messages({ group: 'ui' }).pipe(fresh).subscribe((d) => { console.log(d.value); d.ack(); });
 * console.log(fresh.expired);
 * ```
 */
export function expire<T>(ms: number, options?: ExpireOptions<T>): ExpireOperator<T> {
  const { scheduler, onExpired } = expireSettings(ms, options);
  let expired = 0;
  const operator = (source: Observable<Delivery<T>>): Observable<Delivery<T>> =>
    new Observable<Delivery<T>>((subscriber) => {
      const inner = subscribeInner(subscriber, source, {
        next(d) {
          const age = scheduler.now() - d.timestamp;
          if (!(age > ms)) {
            subscriber.next(d);
            return;
          }
          d.ack();
          expired++;
          if (onExpired === undefined) return;
          try {
            onExpired(d, age);
          } catch (e) {
            inner.unsubscribe();
            subscriber.error(e);
          }
        },
        error: (e) => subscriber.error(e),
        complete: () => subscriber.complete(),
      });
    });
  return Object.defineProperty(operator, 'expired', { get: () => expired, enumerable: true }) as ExpireOperator<T>;
}
