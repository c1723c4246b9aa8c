// waits: an ack-timeout redelivery reaches a recv() waiting for it (another member's, here)
import { createBus } from 'ringbus';
import './clock.js'; // after ringbus: its load time is not counted

const t = createBus().topic<string>('t', { groups: ['g'], ackTimeoutMs: 300 });
await t.publish('job');
const crashed = t.consumer({ group: 'g' });
await crashed.recv(); // never settled
const again = await t.consumer({ group: 'g' }).recv();
console.log('redelivered', again?.value, again?.deliveryCount);
again?.ack();
