/**
 * Fan-out and competition on one topic:
 * - two subscriptions without a group (private, non-durable) each see every message (broadcast);
 * - two members of one group compete: each message goes to one of them;
 * - an ix `consume()` pipeline with a source-side filter and `take`.
 *
 * Run: node --conditions=ringbus-source --import tsx examples/fan-out.ts
 */
import { map, take } from 'ix/asynciterable/operators';
import { createBus } from 'ringbus';

interface Price {
  readonly symbol: string;
  readonly price: number;
}

const bus = createBus();
const prices = bus.topic<Price>('prices', { groups: ['pricing'] });

// Broadcast: each subscription without a group is a private group of one and sees everything.
const seenByA: string[] = [];
const seenByB: string[] = [];
const a = prices.values().subscribe((p) => seenByA.push(p.symbol));
const b = prices.messages().subscribe((d) => {
  seenByB.push(d.value.symbol);
  d.ack();
});

// Competition: two members of the durable group 'pricing' split the messages between them.
const perMember: Record<string, string[]> = { m1: [], m2: [] };
const m1 = prices.values({ group: 'pricing' }).subscribe((p) => perMember.m1.push(p.symbol));
const m2 = prices.values({ group: 'pricing' }).subscribe((p) => perMember.m2.push(p.symbol));

// One publish at a time: each wakes the group's members round-robin. (A publishBatch moves as a
// batch: a synchronous member takes all of it up to its prefetch, which is what it should do.)
for (const p of [
  { symbol: 'ACME', price: 97 },
  { symbol: 'INIT', price: 120 },
  { symbol: 'ACME', price: 101 },
  { symbol: 'GLOB', price: 64 },
  { symbol: 'INIT', price: 131 },
  { symbol: 'GLOB', price: 66 },
]) {
  await prices.publish(p);
}

console.log(`subscription A (no group) saw ${seenByA.length}: ${seenByA.join(' ')}`);
console.log(`subscription B (no group) saw ${seenByB.length}: ${seenByB.join(' ')}`);
console.log(`group 'pricing' member m1 got ${perMember.m1.join(' ')}; m2 got ${perMember.m2.join(' ')}`);

const stats = prices.stats();
console.log(`groups on the topic: ${Object.entries(stats.groups).map(([name, g]) => `${name} (durable ${g.durable})`).join(', ')}`);
for (const s of [a, b, m1, m2]) s.unsubscribe();
console.log(`after unsubscribing, groups left: ${Object.keys(prices.stats().groups).join(', ')}`);

// ix: a new durable group replays from the earliest retained message; the source-side filter
// settles what it rejects, and take(2) ends the iteration (closing the consumer).
const alerts = prices
  .consume({ group: 'alerts', from: 'earliest', filter: (m) => m.value.price > 100 })
  .pipe(
    map((d) => {
      d.ack();
      return `${d.value.symbol} at ${d.value.price} (offset ${d.offset})`;
    }),
    take(2),
  );
for await (const line of alerts) console.log(`alert: ${line}`);

const g = prices.stats().groups.alerts;
console.log(`alerts group: acked ${g.acked}, filtered ${g.filtered}, committed ${g.committed}, members ${g.members}`);
await bus.close();
