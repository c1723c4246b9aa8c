import type { Delivery, PublishOptions, Topic } from '../../types.js';
import { TopicFullError } from '../../errors.js';
import type { DeadLetterToOptions, ForwardToOptions, PublishToOptions } from '../types.js';
import * as v from './validate.js';

/** What one input becomes: the value and the publish options. */
export interface Outgoing<V> {
  readonly value: V;
  readonly options: PublishOptions<V> | undefined;
}

/**
 * Publishes one value: `tryPublish` when there is room now (a `tryPublish` that returns true
 * took the offset `topic.tail` had just before), else `publish`, which waits under
 * `overflow: 'block'`; under any other policy the refusal `tryPublish` already counted is final.
 */
export function publishOne<V>(topic: Topic<V>, out: Outgoing<V>, signal: AbortSignal): number | Promise<number> {
  const tail = topic.tail;
  if (topic.tryPublish(out.value, out.options)) return tail;
  if (topic.overflow !== 'block') return Promise.reject(new TopicFullError(topic.name, topic.stats().capacity));
  return topic.publish(out.value, out.options === undefined ? { signal } : { ...out.options, signal });
}

/** Turns `publishTo` options into a per-value mapping (no allocation per value when static). */
export function publishToMapper<T>(options: PublishToOptions<T> | undefined): { map: (value: T) => Outgoing<T>; maxBuffered: number } {
  const o = v.options<PublishToOptions<T>>('publishTo options', options, ['key', 'headers', 'ttlMs', 'maxBuffered']);
  const { key, headers, ttlMs } = o;
  if (key !== undefined && typeof key !== 'string' && typeof key !== 'function') v.fn('key', key);
  if (headers !== undefined && (typeof headers !== 'object' || headers === null) && typeof headers !== 'function') v.fn('headers', headers);
  if (ttlMs !== undefined) v.duration('ttlMs', ttlMs, true, true);
  const maxBuffered = o.maxBuffered === undefined ? 1024 : v.integer('maxBuffered', o.maxBuffered, 0, 2 ** 30, true);
  if (typeof key !== 'function' && typeof headers !== 'function') {
    const fixed = key === undefined && headers === undefined && ttlMs === undefined ? undefined : { key, headers, ttlMs };
    return { map: (value) => ({ value, options: fixed }), maxBuffered };
  }
  return {
    map: (value) => ({
      value,
      options: {
        key: typeof key === 'function' ? key(value) : key,
        headers: typeof headers === 'function' ? headers(value) : headers,
        ttlMs,
      },
    }),
    maxBuffered,
  };
}

/** Turns a delivery into its dead letter: same value and key, the original headers plus the `x-*` ones. */
export function deadLetterMapper<T>(options: DeadLetterToOptions<T> | undefined): { map: (d: Delivery<T>) => Outgoing<T>; maxBuffered: number } {
  const o = v.options<DeadLetterToOptions<T>>('deadLetterTo options', options, ['detail', 'maxBuffered']);
  const { detail } = o;
  if (detail !== undefined && typeof detail !== 'string') v.fn('detail', detail);
  const maxBuffered = o.maxBuffered === undefined ? 1024 : v.integer('maxBuffered', o.maxBuffered, 0, 2 ** 30, true);
  return {
    map: (d) => {
      const headers: Record<string, string> = {
        ...d.headers,
        'x-dead-letter-reason': 'terminated',
        'x-original-topic': d.topic,
        'x-original-offset': String(d.offset),
        'x-original-group': d.group,
        'x-deliveries': String(d.deliveryCount),
      };
      const text = typeof detail === 'function' ? detail(d) : detail;
      if (text !== undefined) headers['x-dead-letter-detail'] = String(text);
      return { value: d.value, options: d.key === undefined ? { headers } : { key: d.key, headers } };
    },
    maxBuffered,
  };
}

/** Turns a delivery into its forwarded message: `map` of its value, its key and headers unless told otherwise. */
export function forwardMapper<T, U>(options: ForwardToOptions<T, U> | undefined): { map: (d: Delivery<T>) => Outgoing<U>; maxBuffered: number } {
  const o = v.options<ForwardToOptions<T, U>>('forwardTo options', options, ['map', 'key', 'headers', 'ttlMs', 'maxBuffered']);
  const { map, key, headers, ttlMs } = o;
  if (map !== undefined) v.fn('map', map);
  if (key !== undefined && typeof key !== 'string' && typeof key !== 'function') v.fn('key', key);
  if (headers !== undefined && (typeof headers !== 'object' || headers === null) && typeof headers !== 'function') v.fn('headers', headers);
  if (ttlMs !== undefined) v.duration('ttlMs', ttlMs, true, true);
  const maxBuffered = o.maxBuffered === undefined ? 1024 : v.integer('maxBuffered', o.maxBuffered, 0, 2 ** 30, true);
  return {
    map: (d) => ({
      value: map === undefined ? (d.value as unknown as U) : map(d.value, d),
      options: {
        key: key === undefined ? d.key : typeof key === 'function' ? key(d) : key,
        headers: headers === undefined ? d.headers : typeof headers === 'function' ? headers(d) : headers,
        ttlMs,
      },
    }),
    maxBuffered,
  };
}
