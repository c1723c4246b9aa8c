// exits: a readable read once (its delivery unsettled, ack timeout 30 s) with no read pending
import { createBus } from 'ringbus';
import './clock.js'; // after ringbus: its load time is not counted

const t = createBus().topic<number>('t', { groups: ['g'], ackTimeoutMs: 30_000 });
await t.publish(1);
const reader = t.readable({ group: 'g' }).getReader();
const { value } = await reader.read();
console.log('read', value?.value);
