import type { Delivery, Topic } from '../types.js';
import { deadLetterMapper } from './internal/outgoing.js';
import { publishingTransformer, SETTLE_FATE } from './internal/publishing-transformer.js';
import * as v from './internal/validate.js';
import type { DeadLetterToOptions } from './types.js';
import { transformStream } from './internal/transform.js';

/**
 * The web-stream twin of {@link deadLetterTo}: publishes each delivery written to it to
 * `topic` with the dead-letter headers, acks it once published (on a durable topic: once
 * synced), and emits the dead letter's offset. A write waits while the topic has no room
 * (`overflow: 'block'`). A delivery that cannot be published is nacked and errors the stream.
 *
 * @param topic The dead-letter topic.
 * @param options `detail` (string, or function of the delivery).
 * @returns `TransformStream<Delivery<T>, number>`.
 * @throws ConfigError synchronously, for an invalid option.
 *
 * @example
 * ```ts
 * import { createBus } from 'ringbus';
 * import { deadLetterToStream, filterMessagesStream } from 'ringbus/operators';
 *
 * const bus = createBus();
 * const orders = bus.topic<{ total: number }>('orders', { groups: ['audit'] });
 * const rejected = bus.topic<{ total: number }>('orders.rejected');
 * void orders.readable({ group: 'audit' })
 *   .pipeThrough(filterMessagesStream((o) => o.total < 0))
 *   .pipeThrough(deadLetterToStream(rejected, { detail: 'negative total' }))
 *   .pipeTo(new WritableStream());
 * ```
 */
export function deadLetterToStream<T>(topic: Topic<T>, options?: DeadLetterToOptions<T>): TransformStream<Delivery<T>, number> {
  v.topic('topic', topic);
  const { map } = deadLetterMapper(options);
  return transformStream<Delivery<T>, number>(publishingTransformer(topic, map, SETTLE_FATE));
}
