// exits: a recv() ended by closing its consumer, while a delayed redelivery (30 s) is pending
import { createBus } from 'ringbus';
import './clock.js'; // after ringbus: its load time is not counted

const t = createBus().topic<number>('t', { groups: ['g'], ackTimeoutMs: 30_000 });
await t.publish(1);
const c = t.consumer({ group: 'g' });
(await c.recv())?.nack({ delayMs: 30_000 });
const waiting = c.recv();
setTimeout(() => c.close(), 50);
console.log('recv after close:', await waiting);
