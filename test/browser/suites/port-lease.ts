// The port engine's Web Lock lease, in a page (which has Web Locks): a client speaking the protocol
// by hand over a MessageChannel to a memory bus served in the same page.
import { describe, expect, it } from 'vitest';
import { type Bus, createBus, serveBus } from '../../../src/index.js';
import { holdLease } from '../../../src/internal/port/lease.js';
import { PROTOCOL_VERSION } from '../../../src/internal/port/protocol.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A served bus whose topic `t` holds one message, and a raw client that said `hello` (with
 * `lock`, if given, and a 20 ms heartbeat it then never sends) and took that message.
 */
async function holding(lock: string | undefined): Promise<{ served: Bus; welcome: Record<string, unknown> }> {
  const served = createBus();
  const t = served.topic<string>('t', { groups: ['g'], ackTimeoutMs: 600_000 });
  await t.publish('held');
  const { port1, port2 } = new MessageChannel();
  serveBus(served, port1);
  const got: Record<string, unknown>[] = [];
  port2.onmessage = (e) => got.push(...(e.data as Record<string, unknown>[])); // the server posts one array per turn
  port2.postMessage([
    { id: 1, op: 'hello', version: PROTOCOL_VERSION, heartbeatMs: 20, ...(lock === undefined ? {} : { lock }) },
    { id: 2, op: 'topic', topic: 0, name: 't', options: undefined },
    { id: 3, op: 'member', topic: 0, member: 0, options: { group: 'g', prefetch: 1 } },
    { op: 'demand', member: 0, want: 1, received: 0 },
  ]);
  // the answer to hello comes once the server holds its lock: it may follow the deliveries
  const arrived = (): boolean => got.some((m) => m.kind === 'deliveries') && got.some((m) => m.id === 1);
  for (let i = 0; i < 500 && !arrived(); i++) await sleep(2);
  expect(t.stats().groups.g).toMatchObject({ members: 1, pending: 1 });
  return { served, welcome: got.find((m) => m.id === 1)! };
}

describe('port engine lease (Web Locks)', () => {
  it('a client holding its lock is not taken for gone when its heartbeat stops (a hidden tab); released, its delivery returns at once', async () => {
    const lock = `test-${crypto.randomUUID()}`;
    const release = await holdLease(lock);
    expect(release).toBeTypeOf('function');
    const { served } = await holding(lock);
    await sleep(300); // 15 heartbeats of silence
    const t = served.topic<string>('t');
    expect(t.stats().groups.g).toMatchObject({ members: 1, pending: 1 });
    const again = t.consumer({ group: 'g' });
    const start = performance.now();
    release!();
    const d = await again.recv();
    expect([d?.value, d?.deliveryCount]).toEqual(['held', 2]);
    expect(performance.now() - start).toBeLessThan(500);
    await served.close();
  });

  it('a client without a lock is taken for gone after missedHeartbeats silent heartbeats', async () => {
    const { served } = await holding(undefined);
    const start = performance.now();
    const d = await served.topic<string>('t').consumer({ group: 'g' }).recv();
    expect([d?.value, d?.deliveryCount]).toEqual(['held', 2]);
    expect(performance.now() - start).toBeLessThan(1_000);
    await served.close();
  });

  it('the server welcomes a client with the name of the lock it holds while it serves', async () => {
    const { served, welcome } = await holding(undefined);
    const value = welcome.value as { version: number; lock?: string };
    expect(value.version).toBe(PROTOCOL_VERSION);
    expect(value.lock).toMatch(/^ringbus-server-/);
    const held = await navigator.locks.query();
    expect(held.held?.map((l) => l.name)).toContain(value.lock);
    await served.close();
  });
});
