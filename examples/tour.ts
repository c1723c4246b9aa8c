/**
 * A guided tour of ringbus: `npm start`.
 *
 * Six short scenes, each printing what happens:
 *   1. a work queue (`channel`) whose worker crashes: its message goes to another worker;
 *   2. fan-out: two consumer groups on one topic each see every message;
 *   3. replay: a new group starts from an offset, then seeks back;
 *   4. a poison message, nacked until `maxDeliveries`, lands in the dead-letter topic;
 *   5. backpressure: a topic of capacity 4 under `overflow: 'block'` holds a fast producer;
 *   6. the bus's stats.
 *
 * Run it with `node --conditions=ringbus-source --import tsx examples/tour.ts`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { channel, createBus, type BusStats, type Delivery } from 'ringbus';

interface Order {
  readonly id: number;
  readonly item: string;
}

let scene = 0;
function title(text: string): void {
  console.log(`\n== ${++scene}. ${text} ${'='.repeat(Math.max(3, 66 - text.length))}`);
}
function say(text: string): void {
  console.log(`   ${text}`);
}
function show(d: Delivery<unknown>): string {
  return `offset ${d.offset} ${JSON.stringify(d.value)} (deliveryCount ${d.deliveryCount})`;
}

console.log('ringbus tour: broker semantics in-process, no broker to run.');

// ---------------------------------------------------------------------------------------------
title('Work queue: a worker crashes holding a message');
{
  const [tx, rx] = channel<string>(16);
  say('channel<string>(16): one durable group, overflow "block", messages stay until acked.');
  await tx.send('resize photo-1.jpg');
  await tx.send('resize photo-2.jpg');
  say('sent 2 jobs.');

  const alice = rx.resubscribe();
  const bob = rx.resubscribe();
  const job = await alice.recv();
  say(`worker alice received ${job ? show(job) : 'nothing'}`);
  say('alice crashes: her receiver closes without acking...');
  alice.close();

  for (let d = await bob.recv(); d !== undefined; d = bob.tryRecv()) {
    say(`worker bob   received ${show(d)}${d.redelivered ? '  <- redelivered' : ''}`);
    d.ack();
  }
  say('bob acked both: nothing was lost, and each job was done once.');

  tx.close();
  say(`sender closed; bob.recv() now resolves ${String(await bob.recv())}.`);
  rx.close();
}

// ---------------------------------------------------------------------------------------------
const bus = createBus();
const orders = bus.topic<Order>('orders', {
  groups: ['billing', 'shipping'],
  maxDeliveries: 3,
  deadLetter: 'orders.dlq',
  ackTimeoutMs: 1_000,
});

title('Fan-out: two groups, each sees everything');
{
  say("topic 'orders' with durable groups billing and shipping.");
  const billing = orders.values({ group: 'billing' }).subscribe((o) => say(`billing  charges order #${o.id} (${o.item})`));
  const shipping = orders.messages({ group: 'shipping' }).subscribe((d) => {
    say(`shipping packs   order #${d.value.id} (offset ${d.offset})`);
    d.ack();
  });
  await orders.publishBatch([
    { id: 1, item: 'kettle' },
    { id: 2, item: 'teapot' },
    { id: 3, item: 'mugs' },
  ]);
  billing.unsubscribe();
  shipping.unsubscribe();
  const g = orders.stats().groups;
  say(`billing saw ${g.billing.acked} orders, shipping saw ${g.shipping.acked}: fan-out across groups.`);
  say('both unsubscribe; their groups are durable and keep their place (committed offset 3).');
}

// ---------------------------------------------------------------------------------------------
title('Replay: a new group reads history from an offset');
{
  const audit = orders.consumer({ group: 'audit', from: { offset: 1 } });
  say("a new group 'audit' joins with from: { offset: 1 }:");
  for (let d = audit.tryRecv(); d !== undefined; d = audit.tryRecv()) {
    say(`audit reads ${show(d)}`);
    d.ack();
  }
  audit.seek(0);
  const again = audit.tryRecv();
  say(`audit.seek(0); next delivery is ${again ? show(again) : 'nothing'}`);
  again?.ack();
  audit.commit(3);
  say(`audit.commit(3): committed offset is now ${orders.stats().groups.audit.committed}.`);
  audit.close();
}

// ---------------------------------------------------------------------------------------------
title('Dead letters: a poison message');
{
  say("'orders' has maxDeliveries: 3 and deadLetter: 'orders.dlq'.");
  const dlq = bus.topic<Order>('orders.dlq');
  const ops = dlq.consumer({ group: 'ops' });
  const fraud = orders.consumer({ group: 'fraud', from: 'latest' });
  await orders.publish({ id: 666, item: '<poison>' }, { key: 'order-666' });
  say('published order #666; the fraud checker fails on it every time and nacks:');
  for (let d = await fraud.recv(); d !== undefined; d = fraud.tryRecv()) {
    say(`fraud got ${show(d)} -> nack`);
    d.nack();
  }
  say('after the third delivery it is not redelivered; it is dead-lettered instead.');
  const dead = await ops.recv();
  if (dead !== undefined) {
    say(`orders.dlq has ${JSON.stringify(dead.value)} (key ${dead.key}), headers:`);
    for (const h of ['x-dead-letter-reason', 'x-original-topic', 'x-original-offset', 'x-original-group', 'x-deliveries']) {
      say(`  ${h}: ${dead.headers[h]}`);
    }
    dead.ack();
  }
  fraud.close();
  ops.close();
}

// ---------------------------------------------------------------------------------------------
title('Backpressure: a full topic holds a fast producer');
{
  const events = bus.topic<number>('events', { capacity: 4, overflow: 'block', groups: ['slow'] });
  say("topic 'events': capacity 4, overflow 'block', one group 'slow' that acks every 5 ms.");
  const total = 12;
  const waits: number[] = [];

  const producer = async (): Promise<void> => {
    for (let i = 0; i < total; i++) {
      const t0 = performance.now();
      await events.publish(i);
      waits.push(performance.now() - t0);
    }
  };
  const consumer = async (): Promise<void> => {
    const slow = events.consumer({ group: 'slow' });
    for (let n = 0; n < total; n++) {
      const d = await slow.recv();
      await sleep(5);
      d?.ack();
    }
    slow.close();
  };

  const started = performance.now();
  const producing = producer();
  await sleep(1);
  say(`the producer filled the ring: tryPublish(99) returns ${events.tryPublish(99)}, publish() waits.`);
  say('now the slow consumer starts.');
  await Promise.all([producing, consumer()]);
  const held = waits.filter((w) => w >= 1);
  say(`producer published ${total} messages in ${Math.round(performance.now() - started)} ms;`);
  say(`${total - held.length} went straight in; publish() held the producer ${held.length} times (up to ${Math.round(Math.max(0, ...held))} ms each),`);
  say('each let in once the consumer had acked the ring down to half (the low-water mark), or at once');
  say('when it ran dry: nothing dropped, nothing buffered without bound.');
  say(`events: published ${events.stats().published}, dropped ${events.stats().dropped}, rejected ${events.stats().rejected}.`);
}

// ---------------------------------------------------------------------------------------------
title('Stats: bus.stats()');
{
  printStats(bus.stats());
  say('lag = tail - committed: billing, shipping and audit were offline when #666 arrived; it waits for them.');
}

await bus.close();
console.log('\ntour complete.');

function printStats(stats: BusStats): void {
  for (const t of Object.values(stats.topics)) {
    say(
      `${t.name.padEnd(10)} capacity ${t.capacity}  size ${t.size}  head ${t.head}  tail ${t.tail}  ` +
        `published ${t.published}  expired ${t.expired}  dropped ${t.dropped}  subscribers ${t.subscribers}`,
    );
    for (const [name, g] of Object.entries(t.groups)) {
      const figures = [
        `committed ${g.committed}`,
        `lag ${g.lag}`,
        `delivered ${g.delivered}`,
        `acked ${g.acked}`,
        `nacked ${g.nacked}`,
        `redelivered ${g.redelivered}`,
        `deadLettered ${g.deadLettered}`,
        `missed ${g.missed}`,
      ];
      say(`  ${name.padEnd(9)} ${figures.join('  ')}`);
    }
  }
}
