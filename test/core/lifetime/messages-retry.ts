// waits, then exits: a subscribed messages() waits for a delayed redelivery; once everything is
// acked nothing holds the process (the subscription stays open, as a script's usually does)
import { createBus } from 'ringbus';
import './clock.js'; // after ringbus: its load time is not counted

const t = createBus().topic<string>('t', { groups: ['g'], ackTimeoutMs: 30_000 });
t.messages({ group: 'g' }).subscribe((d) => {
  if (d.deliveryCount === 1) d.nack({ delayMs: 300 });
  else {
    console.log('redelivered', d.value, d.deliveryCount);
    d.ack();
  }
});
await t.publish('job');
