// A bus of one tab in a dedicated Worker: the fallback where there is no SharedWorker. The page
// sends the port to serve it on.
import { createBus, serveBus } from '../../../src/index.js';

const bus = createBus();
addEventListener('message', (e: MessageEvent<MessagePort>) => serveBus(bus, e.data));
