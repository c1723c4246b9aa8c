import { Observable, type OperatorFunction } from 'rxjs';
import type { Delivery } from '../types.js';
import { subscribeInner } from './internal/inner.js';

/**
 * Maps deliveries to their values, settling each once the synchronous downstream returns:
 * acked, or nacked when the subscription ended meanwhile (a downstream that threw, a `take`
 * that completed). Async work started downstream is not waited for: use `handle` for that.
 *
 * `topic.values()` does the same straight from the topic, without allocating deliveries; this
 * operator is for a delivery stream already shaped by other operators.
 *
 * @returns An operator from `Observable<Delivery<T>>` to `Observable<T>`.
 *
 * @example
 * ```ts
 * import { createBus } from 'ringbus';
 * import { filterMessages, values } from 'ringbus/operators';
 *
 * const temps = createBus().topic<number>('temps', { groups: ['alarm'] });
 * temps.messages({ group: 'alarm' })
 *   .pipe(filterMessages((t) => t > 90), values())
 *   .subscribe((t) => console.log(`too hot: ${t}`));
 * ```
 */
export function values<T>(): OperatorFunction<Delivery<T>, T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      subscribeInner(subscriber, source, {
        next(d) {
          subscriber.next(d.value);
          if (subscriber.closed) d.nack();
          else d.ack();
        },
        error: (e) => subscriber.error(e),
        complete: () => subscriber.complete(),
      });
    });
}
