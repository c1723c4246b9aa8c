import type { ConsumerInfo, StreamInfo } from '@nats-io/jetstream';
import type { NatsTopicConfig } from './config.js';
import { settledFloor } from './group.js';

/**
 * The capacity a `grow` topic has after its groups' use is seen to be `needed` (messages some
 * group has not settled), starting from `current`: the memory engine's rule (see
 * src/internal/memory/overflow.ts) applied to a snapshot. It grows by `growthFactor` steps (at
 * least by one) until it holds what is needed, up to `maxCapacity`; it shrinks by the same steps,
 * never below `capacity` nor below what is needed, while what is needed is under
 * `shrinkThreshold` of it.
 */
export function grownCapacity(config: NatsTopicConfig, current: number, needed: number): number {
  const { capacity: base, growthFactor: factor = 2, maxCapacity: max = base, shrinkThreshold: threshold = 0.25 } = config;
  let c = current;
  while (c < needed && c < max) c = Math.min(max, Math.max(c + 1, Math.ceil(c * factor)));
  while (c > base && needed < c * threshold) {
    const smaller = Math.max(base, Math.floor(c / factor));
    if (smaller < needed) break;
    c = smaller;
  }
  return c;
}

/** How many retained messages some group has not settled (what the memory engine calls `needed`). */
export function neededOf(info: StreamInfo, consumers: readonly ConsumerInfo[]): number {
  const { messages, first_seq: first, last_seq: last } = info.state;
  return messages === 0 ? 0 : last + 1 - Math.max(first, settledFloor(last, consumers));
}
