/**
 * A worker thread that is a member of group `w` of topic `jobs` of a bus served to it over the
 * port in `workerData.port`. It tells its parent of every delivery; with `ack: true` it acks each,
 * otherwise it holds them unsettled (until it is terminated).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createBus, portEngine } from '../../src/index.js';

const { port, ack, prefetch } = workerData as { port: MessagePort; ack: boolean; prefetch: number };
const bus = createBus({ engine: portEngine(port, { heartbeatMs: 0 }) });
await bus.ready();
const c = bus.topic<number>('jobs').consumer({ group: 'w', prefetch });
for await (const d of c) {
  parentPort!.postMessage({ offset: d.offset, value: d.value, deliveryCount: d.deliveryCount });
  if (ack) d.ack();
}
