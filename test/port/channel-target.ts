import { type Bus, createBus, portEngine, serveBus } from '../../src/index.js';
import type { MakeBus } from '../conformance/index.js';

/**
 * Buses that are clients of a memory bus served over a `MessageChannel` in this thread: every call
 * and every delivery crosses the port as a structured clone, as between threads. `cleanup()`
 * closes the served buses.
 */
export function portPair(): { makeBus: MakeBus; cleanup(): Promise<void> } {
  const served: Bus[] = [];
  return {
    makeBus(options) {
      const server = createBus();
      served.push(server);
      const { port1, port2 } = new MessageChannel();
      serveBus(server, port1);
      return createBus({ ...options, engine: portEngine(port2, { heartbeatMs: 0 }) });
    },
    async cleanup() {
      await Promise.all(served.splice(0).map((b) => b.close()));
    },
  };
}
