/**
 * The same Topic API on NATS JetStream: a work queue whose jobs survive this process, shared by
 * every process that opens the topic. Needs nats-server with JetStream (`nats-server -js`) and
 * `npm i @nats-io/jetstream @nats-io/transport-node`.
 *
 *   RINGBUS_NATS_URL=nats://127.0.0.1:4222 node --import tsx examples/nats.ts
 */
import { createBus } from 'ringbus';
import { natsEngine } from 'ringbus/nats';

const bus = createBus({ engine: natsEngine({ servers: process.env.RINGBUS_NATS_URL ?? 'nats://127.0.0.1:4222', prefix: process.env.RINGBUS_NATS_PREFIX ?? 'example' }) });
await bus.ready();

// one stream per topic; group 'workers' is a durable pull consumer; failures go to 'jobs.failed'
const jobs = bus.topic<{ n: number }>('jobs', { groups: ['workers'], ackTimeoutMs: 5_000, maxDeliveries: 3, deadLetter: 'jobs.failed' });
const failed = bus.topic<{ n: number }>('jobs.failed', { groups: ['audit'] });
await jobs.publishBatch([{ n: 1 }, { n: 2 }, { n: -1 }]);

const worker = jobs.consumer({ group: 'workers', prefetch: 8 });
let done = 0;
for await (const d of worker) {
  if (d.value.n < 0) d.nack(); // a poison job: after its third delivery it is dead-lettered
  else {
    console.log(`job ${d.value.n} (offset ${d.offset}, delivery ${d.deliveryCount})`);
    d.ack();
    done++;
  }
  if (done === 2 && d.deliveryCount === 3) break;
}

const dead = await failed.consumer({ group: 'audit' }).recv();
console.log(`dead letter: ${JSON.stringify(dead?.value)} after ${dead?.headers['x-deliveries']} deliveries (${dead?.headers['x-dead-letter-reason']})`);
dead?.ack();

await bus.deleteTopic('jobs'); // removes the streams: run it again from scratch
await bus.deleteTopic('jobs.failed');
await bus.close();
