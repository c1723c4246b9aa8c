import type { Headers } from '../types.js';
import type { DeadLetterReason } from './group.js';

/** The dead-letter topic, as the routing needs it. */
export interface DeadLetterTarget<T> {
  readonly closed: boolean;
  /** True when `publish()` waits for room (overflow `block`). */
  readonly waits: boolean;
  tryPublish(value: T, options: { key?: string; headers: Headers }): boolean;
  /** `admitted`: resolve once in the ring, not once durable. */
  publish(value: T, options: { key?: string; headers: Headers }, admitted: boolean): Promise<number>;
}

/** What a dead letter says about where it came from. */
export interface DeadLetterOrigin {
  readonly topic: string;
  readonly group: string;
  readonly offset: number;
  readonly reason: DeadLetterReason;
  readonly detail: string | undefined;
  readonly deliveries: number;
}

/** The original headers plus the `x-dead-letter-*` and `x-original-*` ones. */
export function deadLetterHeaders(headers: Headers, o: DeadLetterOrigin): Record<string, string> {
  const h: Record<string, string> = {
    ...headers,
    'x-dead-letter-reason': o.reason,
    'x-original-topic': o.topic,
    'x-original-offset': String(o.offset),
    'x-original-group': o.group,
    'x-deliveries': String(o.deliveries),
  };
  if (o.detail !== undefined) h['x-dead-letter-detail'] = o.detail;
  return h;
}

/**
 * Publishes a dead letter. Returns true when it is done synchronously (published, or dropped:
 * then `dropped()` was called), or a promise that settles once a dead-letter topic under
 * `block` has admitted it (or dropped it: the topic closed).
 */
export function sendDeadLetter<T>(dlq: DeadLetterTarget<T> | undefined, value: T, key: string | undefined, headers: Headers, dropped: () => void): true | Promise<unknown> {
  if (dlq === undefined || dlq.closed) {
    dropped();
    return true;
  }
  const options = key === undefined ? { headers } : { key, headers };
  if (dlq.tryPublish(value, options)) return true;
  if (!dlq.waits) {
    dropped(); // the dead-letter topic refused it (and counted it as rejected)
    return true;
  }
  // settled once admitted, like the tryPublish path (its durability is the dead-letter topic's next sync)
  return dlq.publish(value, options, true).catch(dropped);
}
