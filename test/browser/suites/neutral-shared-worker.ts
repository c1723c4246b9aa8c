// The engine-neutral conformance suite across threads of the browser: every test bus is a page's
// `portEngine` client of a memory bus that lives in a SharedWorker (test/browser/tabs/conformance-worker.ts,
// served at /conformance-worker.js), on wall time (the served bus's timers are the worker's).
import { createBus, portEngine } from '../../../src/index.js';
import { describeNeutralConformance, realClock } from '../../conformance/index.js';

const worker = new SharedWorker('/conformance-worker.js', { type: 'module', name: 'conformance' });
worker.port.start();

describeNeutralConformance({
  name: 'port to a SharedWorker in Chromium (40 ms units)',
  clock: () => realClock(40),
  makeBus(options) {
    const { port1, port2 } = new MessageChannel();
    worker.port.postMessage({ open: port2 }, [port2]);
    return createBus({ ...options, engine: portEngine(port1) });
  },
  quietMs: 30,
  patienceMs: 5_000,
  async cleanup() {
    const closed = new Promise((resolve) => worker.port.addEventListener('message', resolve, { once: true }));
    worker.port.postMessage('close');
    await closed;
  },
  lacks: { 'filter:counted': "a consumer's filter is a function of the client's thread: it runs there, and what it rejects is acked to the served bus" },
});
