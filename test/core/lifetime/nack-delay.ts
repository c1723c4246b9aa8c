// waits: a redelivery after nack({ delayMs }) reaches a recv() waiting for it
import { createBus } from 'ringbus';
import './clock.js'; // after ringbus: its load time is not counted

const t = createBus().topic<string>('t', { groups: ['g'] });
await t.publish('job');
const c = t.consumer({ group: 'g' });
(await c.recv())?.nack({ delayMs: 300 });
const again = await c.recv();
console.log('redelivered', again?.value, again?.deliveryCount);
again?.ack();
