import type { Delivery } from '../types.js';
import * as v from './internal/validate.js';

/**
 * The web-stream twin of {@link filterMessages}: passes the deliveries whose value matches
 * `predicate`, acks the others. A throwing predicate errors the stream (through `pipeThrough`
 * the ringbus source is cancelled and returns the delivery).
 *
 * @param predicate `(value, delivery) => boolean`; a type guard narrows the delivery's type.
 * @returns `TransformStream<Delivery<T>, Delivery<T>>` (or `Delivery<S>`).
 * @throws ConfigError synchronously, when `predicate` is not a function.
 *
 * @example
 * ```ts
 * import { createBus } from 'ringbus';
 * import { filterMessagesStream } from 'ringbus/operators';
 *
 * const events = createBus().topic<{ type: string }>('events', { groups: ['audit'] });
 * const logins = events.readable({ group: 'audit' }).pipeThrough(filterMessagesStream((e) => e.type === 'login'));
 * ```
 */
export function filterMessagesStream<T, S extends T>(predicate: (value: T, delivery: Delivery<T>) => value is S): TransformStream<Delivery<T>, Delivery<S>>;
export function filterMessagesStream<T>(predicate: (value: T, delivery: Delivery<T>) => boolean): TransformStream<Delivery<T>, Delivery<T>>;
export function filterMessagesStream<T>(predicate: (value: T, delivery: Delivery<T>) => boolean): TransformStream<Delivery<T>, Delivery<T>> {
  v.fn('predicate', predicate);
  return new TransformStream<Delivery<T>, Delivery<T>>({
    transform(d, controller) {
      if (predicate(d.value, d)) controller.enqueue(d);
      else d.ack();
    },
  });
}
