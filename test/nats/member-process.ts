/**
 * A child process for test/nats/processes.test.ts. `role=member`: a member of group `w` of topic
 * `jobs`; it prints every delivery and every ack as a JSON line, acks the first `ackFirst`
 * deliveries and holds the rest unsettled (until it is killed). `role=publisher`: publishes
 * 0..n-1, then prints `{"published":n}`.
 */
import { createBus } from '../../src/index.js';
import { natsEngine } from '../../src/nats/index.js';

const { NATS_URL, PREFIX, ROLE, N, ACK_FIRST } = process.env;
const bus = createBus({ engine: natsEngine({ servers: NATS_URL!, prefix: PREFIX!, streamStorage: 'memory' }) });
await bus.ready();
const jobs = bus.topic<number>('jobs');
const say = (o: object): void => void process.stdout.write(`${JSON.stringify({ pid: process.pid, ...o })}\n`);

if (ROLE === 'publisher') {
  const n = Number(N);
  for (let i = 0; i < n; i++) await jobs.publish(i);
  say({ published: n });
  await bus.close();
} else {
  let left = Number(ACK_FIRST ?? Infinity);
  const deliveries = jobs.consumer({ group: 'w', prefetch: 4 })[Symbol.asyncIterator]();
  let next = deliveries.next(); // joins the group and asks for deliveries
  // ready once the group's consumer shows on the server with this member counted here
  while (jobs.stats().groups.w?.members !== 1) await new Promise((r) => setTimeout(r, 20));
  say({ ready: true });
  for (;;) {
    const { done, value: d } = await next;
    if (done) break;
    say({ offset: d.offset, value: d.value, deliveryCount: d.deliveryCount });
    if (left > 0) {
      left--;
      if (d.ack()) say({ acked: d.value, deliveryCount: d.deliveryCount });
      // the acks of a turn go to the server when it ends: let them leave before the next
      // delivery is reported (the parent kills this process once it sees one held)
      if (left === 0) await new Promise((r) => setTimeout(r, 50));
    }
    next = deliveries.next();
  }
}
