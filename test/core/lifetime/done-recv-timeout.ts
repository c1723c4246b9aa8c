// exits: a recvTimeout(30 s) answered by a message releases its timer
import { createBus } from 'ringbus';
import './clock.js'; // after ringbus: its load time is not counted

const t = createBus().topic<number>('t', { groups: ['g'] });
const c = t.consumer({ group: 'g' });
setTimeout(() => void t.publish(7), 50);
const d = await c.recvTimeout(30_000);
d?.ack();
console.log('received', d?.value);
