// waits: an async iterator's next() waits for an ack-timeout redelivery
import { createBus } from 'ringbus';
import './clock.js'; // after ringbus: its load time is not counted

const t = createBus().topic<string>('t', { groups: ['g'], ackTimeoutMs: 300 });
await t.publish('job');
for await (const d of t.consumer({ group: 'g' })) {
  console.log('got', d.value, d.deliveryCount);
  if (d.deliveryCount === 2) break; // the first is never settled: it times out and comes back
}
