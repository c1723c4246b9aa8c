// The SharedWorker of the tab tests: one memory bus for every tab of the origin, served on each
// connecting tab's port.
import { createBus, serveBus } from '../../../src/index.js';

const bus = createBus();

(globalThis as unknown as { onconnect: (e: MessageEvent) => void }).onconnect = (e) => {
  serveBus(bus, e.ports[0]);
};
