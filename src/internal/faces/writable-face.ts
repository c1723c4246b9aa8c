import type { Topic, WritableOptions } from '../../types.js';
import { syncOf } from './sync-of.js';
import * as v from '../validate.js';

const WRITABLE_KEYS = ['key', 'headers', 'highWaterMark'] as const;

/**
 * `topic.writable()`: each chunk is published; a full topic under `block` holds `writer.ready`.
 * On a durable topic a write resolves, as `publish()` does, once the chunk is as durable as the
 * storage promises: the stream's own queue holds the chunks behind it meanwhile.
 */
export function writableFace<T>(topic: Topic<T>, options: WritableOptions | undefined): WritableStream<T> {
  const o = v.options<WritableOptions>('writable options', options, WRITABLE_KEYS);
  const highWaterMark = o.highWaterMark === undefined ? 1 : v.integer('highWaterMark', o.highWaterMark, 1, 2 ** 20);
  const headers = v.headers('headers', o.headers);
  if (o.key !== undefined && typeof o.key !== 'string') v.name('key', o.key);
  const publishOptions = o.key === undefined && headers === undefined ? undefined : { key: o.key, headers };
  const sync = syncOf(topic);
  return new WritableStream<T>(
    {
      write(chunk) {
        if (topic.tryPublish(chunk, publishOptions)) return sync?.();
        return topic.publish(chunk, publishOptions).then(() => undefined);
      },
    },
    { highWaterMark, size: () => 1 },
  );
}
