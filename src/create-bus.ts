import { BusImpl } from './internal/bus.js';
import type { Bus, BusOptions } from './types.js';

/**
 * Creates a bus: a registry of named topics sharing a scheduler. Dead-letter topics are
 * resolved by name on the same bus.
 *
 * @example
 * ```ts
 * const bus = createBus();
 * const orders = bus.topic<Order>('orders', { capacity: 4096, groups: ['billing'], deadLetter: 'orders.dlq' });
 * await orders.publish({ id: 1 });
 * orders.values({ group: 'billing' }).subscribe((o) => bill(o));
 * ```
 */
export function createBus(options?: BusOptions): Bus {
  return new BusImpl(options);
}
