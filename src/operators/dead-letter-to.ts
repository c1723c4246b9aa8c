import type { OperatorFunction } from 'rxjs';
import type { Delivery, Topic } from '../types.js';
import { deadLetterMapper } from './internal/outgoing.js';
import { publishing } from './internal/publisher.js';
import * as v from './internal/validate.js';
import type { DeadLetterToOptions } from './types.js';

/**
 * Dead-letters every delivery that reaches it into `topic`: publishes its value (and key)
 * with its headers plus `x-dead-letter-reason: 'terminated'`, `x-original-topic`,
 * `x-original-offset`, `x-original-group`, `x-deliveries` (and `x-dead-letter-detail` when
 * `detail` gives one) — the headers the engine writes — then acks the source delivery (on a
 * durable topic, once the dead letter is synced), so it is settled and never redelivered.
 * Emits the dead letter's offset, in order.
 *
 * The publish side behaves as in `publishTo` (waits for room under `block`, in order, at most
 * `maxBuffered` queued, `TopicFullError` under `reject`). Ack comes after the publish:
 * at-least-once, so a delivery whose subscription ended between the two may show up twice in
 * the dead-letter topic. A delivery not published when the subscription ends is nacked after
 * the source is unsubscribed (a ringbus source keeps what it handed downstream held until then).
 *
 * Use it to route by your own rule (`term(reason)` routes to the topic's own `deadLetter`).
 *
 * @param topic The dead-letter topic.
 * @param options `detail` (string, or function of the delivery), `maxBuffered` (default `1024`).
 * @returns An operator from `Observable<Delivery<T>>` to `Observable<number>` (offsets in `topic`).
 * @throws ConfigError synchronously, for an invalid option.
 *
 * @example
 * ```ts
 * import { partition, share } from 'rxjs';
 * import { createBus } from 'ringbus';
 * import { deadLetterTo } from 'ringbus/operators';
 *
 * const bus = createBus();
 * const orders = bus.topic<{ total: number }>('orders', { groups: ['billing'] });
 * const rejected = bus.topic<{ total: number }>('orders.rejected');
 * // share(): one member of the group, split in two (partition subscribes twice)
 * const [bad, good] = partition(orders.messages({ group: 'billing' }).pipe(share()), (d) => d.value.total < 0);
 * bad.pipe(deadLetterTo(rejected, { detail: 'negative total' })).subscribe();
 * good.subscribe((d) => d.ack());
 * ```
 */
export function deadLetterTo<T>(topic: Topic<T>, options?: DeadLetterToOptions<T>): OperatorFunction<Delivery<T>, number> {
  v.topic('topic', topic);
  const { map, maxBuffered } = deadLetterMapper(options);
  return (source) =>
    publishing<Delivery<T>, T>(source, topic, map, maxBuffered, () => {
      const unpublished: Delivery<T>[] = [];
      let over = false;
      return {
        published: (d) => void d.ack(),
        // a waiting publish abandoned by the teardown learns its fate after it: nacked then
        dropped: (d) => void (over ? d.nack() : unpublished.push(d)),
        teardown: () => {
          over = true;
          for (const d of unpublished.splice(0)) d.nack();
        },
      };
    });
}
