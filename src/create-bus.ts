import { ConfigError } from './errors.js';
import { EngineBus } from './internal/api/engine-bus.js';
import { BusImpl } from './internal/memory/bus.js';
import { openDurable } from './internal/durable/open.js';
import { describe } from './internal/validate.js';
import type { BusOptions } from './bus-options.js';
import type { Bus } from './types.js';

/**
 * Creates a bus: a registry of named topics sharing a scheduler. Dead-letter topics are
 * resolved by name on the same bus. Without `engine`, topics live in this thread's memory and
 * every face takes the memory engine's fast paths. With `engine` (see docs/engines.md), its topics
 * are held by that engine and every face runs over the engine seam: `portEngine(port)` makes a
 * client of a bus served over a MessagePort, `memoryEngine()` the memory engine over the seam.
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
  const engine = options?.engine;
  if (engine === undefined) return new BusImpl(options, openDurable);
  if (typeof engine !== 'object' || engine === null || typeof engine.openTopic !== 'function' || typeof engine.connect !== 'function') {
    throw new ConfigError('engine', `\`engine\` must be an Engine (memoryEngine(), portEngine(port), ...), got ${describe(engine)}`);
  }
  return new EngineBus(engine, options!);
}
