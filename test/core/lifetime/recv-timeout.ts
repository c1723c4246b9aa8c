// waits: a top-level recvTimeout keeps the process alive until its timeout
import { createBus } from 'ringbus';
import './clock.js'; // after ringbus: its load time is not counted

const c = createBus().topic<number>('t', { groups: ['g'] }).consumer({ group: 'g' });
const d = await c.recvTimeout(500);
console.log('timed out with', d);
