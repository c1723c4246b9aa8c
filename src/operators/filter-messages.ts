import { Observable, type OperatorFunction } from 'rxjs';
import type { Delivery } from '../types.js';
import { subscribeInner } from './internal/inner.js';
import * as v from './internal/validate.js';

/**
 * Passes the deliveries whose value matches `predicate` and acks the others, so a dropped
 * message never holds the group's lag or its consumer's `prefetch` window. A throwing
 * predicate errors the stream; the delivery it was given is left to the source's
 * unsubscription (a ringbus source returns it), then nacked.
 *
 * For a filter the topic applies before anything is delivered, see the consumer's `filter`
 * option; this operator is for predicates downstream code owns.
 *
 * @param predicate `(value, delivery) => boolean`; a type guard narrows the delivery's type.
 * @returns An operator from `Observable<Delivery<T>>` to `Observable<Delivery<T>>` (or `Delivery<S>`).
 * @throws ConfigError synchronously, when `predicate` is not a function.
 *
 * @example
 * ```ts
 * import { createBus } from 'ringbus';
 * import { filterMessages } from 'ringbus/operators';
 *
 * const events = createBus().topic<{ type: string }>('events', { groups: ['audit'] });
 * events.messages({ group: 'audit' })
 *   .pipe(filterMessages((e) => e.type === 'login'))
 *   .subscribe((d) => { console.log(d.value); d.ack(); });
 * await events.publishBatch([{ type: 'login' }, { type: 'click' }]); // 'click' is acked unseen
 * ```
 */
export function filterMessages<T, S extends T>(predicate: (value: T, delivery: Delivery<T>) => value is S): OperatorFunction<Delivery<T>, Delivery<S>>;
export function filterMessages<T>(predicate: (value: T, delivery: Delivery<T>) => boolean): OperatorFunction<Delivery<T>, Delivery<T>>;
export function filterMessages<T>(predicate: (value: T, delivery: Delivery<T>) => boolean): OperatorFunction<Delivery<T>, Delivery<T>> {
  v.fn('predicate', predicate);
  return (source) =>
    new Observable<Delivery<T>>((subscriber) => {
      let failed: Delivery<T> | undefined;
      const inner = subscribeInner(subscriber, source, {
        next(d) {
          let keep: boolean;
          try {
            keep = predicate(d.value, d);
          } catch (e) {
            failed = d;
            inner.unsubscribe();
            subscriber.error(e);
            return;
          }
          if (keep) subscriber.next(d);
          else d.ack();
        },
        error: (e) => subscriber.error(e),
        complete: () => subscriber.complete(),
      });
      return () => {
        inner.unsubscribe();
        failed?.nack();
      };
    });
}
