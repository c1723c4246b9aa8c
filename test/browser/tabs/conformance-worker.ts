// The SharedWorker the neutral suite runs against from a page: each `{ open: port }` gets a fresh
// memory bus served on that port (one per test bus, as the suite wants); `'close'` closes every
// bus opened so far and answers `'closed'`.
import { type Bus, createBus, serveBus } from '../../../src/index.js';

let buses: Bus[] = [];

addEventListener('connect', (e) => {
  const control = (e as MessageEvent).ports[0];
  control.onmessage = async ({ data }: MessageEvent<{ open: MessagePort } | 'close'>) => {
    if (data === 'close') {
      const closing = buses;
      buses = [];
      await Promise.all(closing.map((b) => b.close()));
      control.postMessage('closed');
      return;
    }
    const bus = createBus();
    buses.push(bus);
    serveBus(bus, data.open);
  };
});
