// waits: a pending stream read waits for a delayed redelivery
import { createBus } from 'ringbus';
import './clock.js'; // after ringbus: its load time is not counted

const t = createBus().topic<string>('t', { groups: ['g'] });
await t.publish('job');
const reader = t.readable({ group: 'g' }).getReader();
(await reader.read()).value?.nack({ delayMs: 300 });
const { value } = await reader.read();
console.log('redelivered', value?.value, value?.deliveryCount);
value?.ack();
await reader.cancel();
