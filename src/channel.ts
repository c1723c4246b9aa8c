import type { SchedulerLike } from 'rxjs';
import { asyncScheduler } from 'rxjs';
import { ReceiverImpl, type Receiver, type Sender, SenderImpl } from './internal/memory/channel.js';
import { TopicImpl } from './internal/memory/topic.js';
import { topicSettings } from './internal/topic-options.js';
import * as v from './internal/validate.js';
import { ConfigError } from './errors.js';

export type { Receiver, Sender };

/** Options of {@link channel}. */
export interface ChannelOptions {
  /** A delivery not settled within this time goes back to the channel. Default `30000`; `Infinity` disables. */
  readonly ackTimeoutMs?: number;
  /** A message delivered this many times without an ack is dropped (and counted). Default `Infinity`. */
  readonly maxDeliveries?: number;
  /** Most unsettled deliveries one receiver holds. Default `256`. */
  readonly prefetch?: number;
  /** Timers (ack timeout, `recvTimeout`) run on this scheduler. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** Return a delivery dropped unsettled when it is garbage-collected (best effort; costs a FinalizationRegistry entry per delivery). Default `false`. */
  readonly returnOnGc?: boolean;
}

const CHANNEL_KEYS = ['ackTimeoutMs', 'maxDeliveries', 'prefetch', 'scheduler', 'returnOnGc'] as const;

/**
 * A work queue: one bounded topic with one durable group, `overflow: 'block'`. A message stays
 * in the channel until a receiver acks it, so `send` waits while the channel is full, a
 * receiver that closes (or drops a delivery) gives its messages back, and a receiver created
 * later still sees every message not yet received. Room is counted from the oldest unacked
 * message (the group's committed offset), as in a log: one message held unacked keeps the
 * `capacity` slots after it occupied even when later ones are acked.
 *
 * @param capacity Most messages from the oldest unacked one: an integer from 1 to 2^30.
 * @example
 * ```ts
 * const [tx, rx] = channel<string>(100);
 * await tx.send('job-1');
 * const d = await rx.recv();   // Delivery<string>
 * d?.ack();
 * tx.close();                  // rx drains, then recv() resolves undefined
 * ```
 */
export function channel<T>(capacity: number, options?: ChannelOptions): [Sender<T>, Receiver<T>] {
  v.integer('capacity', capacity, 1, v.RANGE_MAX);
  const o = v.options<ChannelOptions>('channel options', options, CHANNEL_KEYS);
  const prefetch = o.prefetch === undefined ? 256 : v.integer('prefetch', o.prefetch, 1, 2 ** 20);
  const settings = topicSettings(
    'channel',
    { capacity, overflow: 'block', groups: ['channel'], ackTimeoutMs: o.ackTimeoutMs, maxDeliveries: o.maxDeliveries, scheduler: o.scheduler },
    asyncScheduler,
  );
  const topic = new TopicImpl<T>('channel', settings);
  if (o.returnOnGc !== undefined && typeof o.returnOnGc !== 'boolean') throw new ConfigError('returnOnGc', `\`returnOnGc\` must be a boolean, got ${v.describe(o.returnOnGc)}`);
  return [new SenderImpl(topic, { senders: 0 }), new ReceiverImpl(topic, prefetch, o.returnOnGc === true)];
}
