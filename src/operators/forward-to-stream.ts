import type { Delivery, Topic } from '../types.js';
import { forwardMapper } from './internal/outgoing.js';
import { publishingTransformer, SETTLE_FATE } from './internal/publishing-transformer.js';
import { transformStream } from './internal/transform.js';
import * as v from './internal/validate.js';
import type { ForwardToOptions } from './types.js';

/**
 * The web-stream twin of {@link forwardTo}, the safe consume–transform–produce of web streams:
 * publishes each delivery written to it (its value through `map`) to `topic`, acks the
 * delivery once the message is accepted — in the ring and, on a durable topic, synced — and
 * emits the offset. A delivery whose message cannot be published (the topic closed mid-pipe,
 * a full topic under `reject`, a throwing `map`) is nacked and errors the stream; the pipe then
 * cancels its source, which returns what it still held. So every acked delivery has its copy
 * in `topic`, and every other message is still in the source group.
 *
 * A write waits while the topic has no room (`overflow: 'block'`). On a durable topic later
 * deliveries are published while earlier copies wait for their sync (one sync covers many), and
 * each is acked, in order, once its copy is synced.
 *
 * @param topic The topic to publish to.
 * @param options `map` (value → message), `key` and `headers` (static, or functions of the delivery), `ttlMs`.
 * @returns `TransformStream<Delivery<T>, number>` (offsets in `topic`).
 * @throws ConfigError synchronously, for an invalid option.
 *
 * @example
 * ```ts
 * import { createBus } from 'ringbus';
 * import { forwardToStream } from 'ringbus/operators';
 *
 * const bus = createBus();
 * const lines = bus.topic<string>('lines', { groups: ['upper'] });
 * const upper = bus.topic<string>('lines.upper');
 * void lines.readable({ group: 'upper' })
 *   .pipeThrough(forwardToStream(upper, { map: (l) => l.toUpperCase() }))
 *   .pipeTo(new WritableStream());
 * ```
 */
export function forwardToStream<T, U = T>(topic: Topic<U>, options?: ForwardToOptions<T, U>): TransformStream<Delivery<T>, number> {
  v.topic('topic', topic);
  const { map } = forwardMapper(options);
  return transformStream<Delivery<T>, number>(publishingTransformer(topic, map, SETTLE_FATE));
}
