import fc from 'fast-check';
import { expect, it } from 'vitest';
import { type Bus, type Consumer, createBus, type Delivery, portEngine, serveBus } from '../../src/index.js';
import { PORT_RUNS } from '../reliability/config.js';

/** A client bus of `served` over a fresh MessageChannel. */
function client(served: Bus): Bus {
  const { port1, port2 } = new MessageChannel();
  serveBus(served, port1);
  return createBus({ engine: portEngine(port2, { heartbeatMs: 0 }) });
}

type Op =
  | { kind: 'publish'; c: number; n: number }
  | { kind: 'recv'; c: number }
  | { kind: 'batch'; c: number; n: number }
  | { kind: 'ack' | 'nack'; c: number; i: number }
  | { kind: 'reopen'; c: number };

const member = fc.integer({ min: 0, max: 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('publish' as const), c: member, n: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('recv' as const), c: member }),
  fc.record({ kind: fc.constant('batch' as const), c: member, n: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constantFrom('ack' as const, 'nack' as const), c: member, i: fc.nat(8) }),
  fc.record({ kind: fc.constant('reopen' as const), c: member }),
);

it('members in two client buses competing in one group over the port: no offset held by two at once, nothing lost', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
      const served = createBus();
      served.topic('t', { groups: ['g'], capacity: 256, ackTimeoutMs: 600_000 });
      const buses = [client(served), client(served)];
      const topics = buses.map((b) => b.topic<number>('t'));
      const open = (c: number): Consumer<number> => topics[c]!.consumer({ group: 'g', prefetch: 3 });
      const consumers = [open(0), open(1)];
      const held: Delivery<number>[][] = [[], []];
      const acked = new Set<number>();
      let published = 0;
      const take = (c: number, d: Delivery<number>): void => {
        for (const h of held) expect(h.some((x) => x.offset === d.offset), `offset ${d.offset} held twice at once`).toBe(false);
        held[c]!.push(d);
      };
      try {
        for (const o of ops) {
          switch (o.kind) {
            case 'publish':
              await topics[o.c]!.publishBatch(Array.from({ length: o.n }, (_, i) => published + i));
              published += o.n;
              break;
            case 'recv': {
              const d = await consumers[o.c]!.recvTimeout(5);
              if (d !== undefined) take(o.c, d);
              break;
            }
            case 'batch': {
              const ds = await Promise.race([consumers[o.c]!.recvBatch(o.n), new Promise<Delivery<number>[]>((r) => setTimeout(() => r([]), 5))]);
              for (const d of ds) take(o.c, d);
              break;
            }
            case 'ack':
            case 'nack': {
              const h = held[o.c]!;
              if (h.length === 0) break;
              const [d] = h.splice(o.i % h.length, 1);
              if (o.kind === 'ack') {
                expect(d!.ack()).toBe(true);
                acked.add(d!.offset);
              } else expect(d!.nack()).toBe(true);
              break;
            }
            case 'reopen':
              consumers[o.c]!.close();
              held[o.c] = [];
              consumers[o.c] = open(o.c);
              break;
          }
        }
        for (const c of consumers) c.close();
        // everything not acked comes back to the group: a member of the served bus drains it
        const drain = served.topic<number>('t').consumer({ group: 'g' });
        while (acked.size < published) {
          const d = await drain.recvTimeout(2_000);
          if (d === undefined) break;
          d.ack();
          acked.add(d.offset);
        }
        expect(acked.size).toBe(published);
        // a client's acks reach the served bus in the background, in order with its closes
        const deadline = Date.now() + 2_000;
        while (served.topic('t').stats().groups.g!.committed < published && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
        expect(served.topic('t').stats().groups.g).toMatchObject({ pending: 0, committed: published, acked: published });
      } finally {
        await Promise.all(buses.map((b) => b.close()));
        await served.close();
      }
    }),
    { numRuns: PORT_RUNS },
  );
});
