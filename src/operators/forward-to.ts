import type { OperatorFunction } from 'rxjs';
import type { Delivery, Topic } from '../types.js';
import { forwardMapper } from './internal/outgoing.js';
import { publishing } from './internal/publisher.js';
import * as v from './internal/validate.js';
import type { ForwardToOptions } from './types.js';

/**
 * Consume–transform–produce: publishes each delivery's value (through `map`) to `topic`, with
 * the delivery's key and headers unless told otherwise, and acks the delivery once the
 * message is accepted — in the ring and, on a durable topic, synced (as a resolved
 * `publish()`). Emits the offsets, in order. A delivery whose message is not published (the
 * topic closed or refused it, `map` threw, the subscription ended first) is nacked, so the
 * source keeps every message whose copy it does not have: at-least-once, never lost; a
 * delivery whose subscription ended between the publish and the ack may be forwarded twice.
 *
 * The publish side waits and bounds as in {@link publishTo}: in order, one publish waiting for
 * room under `block` with at most `maxBuffered` queued behind it, `TopicFullError` under `reject`.
 *
 * @param topic The topic to publish to.
 * @param options `map` (value → message), `key` and `headers` (static, or functions of the delivery), `ttlMs`, `maxBuffered` (default `1024`).
 * @returns An operator from `Observable<Delivery<T>>` to `Observable<number>` (offsets in `topic`).
 * @throws ConfigError synchronously, for an invalid option.
 *
 * @example
 * ```ts
 * import { createBus } from 'ringbus';
 * import { forwardTo } from 'ringbus/operators';
 *
 * const bus = createBus();
 * const orders = bus.topic<{ id: number; total: number }>('orders', { groups: ['enrich'] });
 * const enriched = bus.topic<{ id: number; total: number; vat: number }>('orders.enriched');
 * orders.messages({ group: 'enrich' })
 *   .pipe(forwardTo(enriched, { map: (o) => ({ ...o, vat: o.total * 0.2 }) }))
 *   .subscribe();
 * ```
 */
export function forwardTo<T, U = T>(topic: Topic<U>, options?: ForwardToOptions<T, U>): OperatorFunction<Delivery<T>, number> {
  v.topic('topic', topic);
  const { map, maxBuffered } = forwardMapper(options);
  return (source) =>
    publishing<Delivery<T>, U>(source, topic, map, maxBuffered, () => {
      const unpublished: Delivery<T>[] = [];
      return {
        published: (d) => void d.ack(),
        dropped: (d) => void unpublished.push(d),
        teardown: () => {
          for (const d of unpublished.splice(0)) d.nack();
        },
      };
    });
}
