import type { Topic } from '../types.js';
import { publishToMapper } from './internal/outgoing.js';
import { NO_FATE, publishingTransformer } from './internal/publishing-transformer.js';
import * as v from './internal/validate.js';
import type { PublishToOptions } from './types.js';
import { transformStream } from './internal/transform.js';

/**
 * The web-stream twin of {@link publishTo}: a `TransformStream` that publishes each chunk
 * written to it and emits its offset. Its backpressure is the topic's room: under
 * `overflow: 'block'` a write waits until the topic takes the chunk, so nothing is buffered
 * beyond the stream's own high-water marks (`maxBuffered` does not apply). Under `reject` a
 * full topic errors the stream with `TopicFullError`. Cancelling abandons a waiting publish.
 * On a durable topic an offset is emitted, as `publish()` resolves, once the chunk is synced;
 * later chunks are published meanwhile (one sync covers many), and the stream closes once every
 * offset is out.
 *
 * Read the offsets (or `pipeTo` them somewhere): an unread readable side stops the writes.
 * When you do not need them, `topic.writable()` is the plain sink.
 *
 * @param topic The topic to publish to.
 * @param options `key` and `headers` (static, or functions of the value), `ttlMs`.
 * @returns `TransformStream<T, number>`.
 * @throws ConfigError synchronously, for an invalid option.
 *
 * @example
 * ```ts
 * import { createBus } from 'ringbus';
 * import { publishToStream } from 'ringbus/operators';
 *
 * const lines = createBus().topic<string>('lines');
 * const source = new ReadableStream<string>({ start(c) { for (const l of ['a', 'b', 'c']) c.enqueue(l); c.close(); } });
 * await source.pipeThrough(publishToStream(lines)).pipeTo(new WritableStream({ write: (offset) => console.log(offset) }));
 * ```
 */
export function publishToStream<T>(topic: Topic<T>, options?: PublishToOptions<T>): TransformStream<T, number> {
  v.topic('topic', topic);
  const { map } = publishToMapper(options);
  return transformStream<T, number>(publishingTransformer(topic, map, NO_FATE));
}
