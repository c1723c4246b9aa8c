// exits: an unsettled delivery (ack timeout 30 s) and a delayed redelivery (30 s) nobody waits for
import { createBus } from 'ringbus';
import './clock.js'; // after ringbus: its load time is not counted

const t = createBus().topic<number>('t', { groups: ['g'], ackTimeoutMs: 30_000 });
await t.publishBatch([1, 2]);
const c = t.consumer({ group: 'g' });
const first = await c.recv();
(await c.recv())?.nack({ delayMs: 30_000 });
console.log('holding', first?.value);
