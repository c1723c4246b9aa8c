// The SharedWorker of the tab tests: one memory bus for every tab of the origin, served on each
// connecting tab's port.
import { createBus, serveBus } from '../../../src/index.js';

const bus = createBus();

addEventListener('connect', (e) => serveBus(bus, (e as MessageEvent).ports[0]));
