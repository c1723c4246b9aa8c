// waits, then exits: a bufferMessages batch open under a subscription is emitted when its time is up
import { createBus } from 'ringbus';
import { bufferMessages } from 'ringbus/operators';
import './clock.js'; // after ringbus: its load time is not counted

const t = createBus().topic<number>('t', { groups: ['g'] });
t.messages({ group: 'g' })
  .pipe(bufferMessages(10, 300))
  .subscribe((batch) => {
    console.log('batch', batch.deliveries.map((d) => d.value).join());
    batch.ackAll();
  });
await t.publishBatch([1, 2, 3]);
