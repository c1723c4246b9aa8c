import { afterEach, expect, it } from 'vitest';
import { type Bus, ClosedError, createBus, portEngine, serveBus } from '../../src/index.js';

const open: Bus[] = [];
afterEach(async () => {
  for (const b of open.splice(0)) await b.close();
});

/** A client bus of `served` over a fresh MessageChannel. */
function client(served: Bus): Bus {
  const { port1, port2 } = new MessageChannel();
  serveBus(served, port1);
  const bus = createBus({ engine: portEngine(port2, { heartbeatMs: 0 }) });
  open.push(bus);
  return bus;
}

it('two client buses share the served topic: its offsets and its group', async () => {
  const served = createBus();
  open.push(served);
  const a = client(served).topic<string>('t', { groups: ['g'] });
  const b = client(served).topic<string>('t');
  expect(await a.publish('x')).toBe(0);
  expect(await b.publish('y')).toBe(1);
  const d = await b.consumer({ group: 'g' }).recv();
  expect([d?.offset, d?.value]).toEqual([0, 'x']);
  d!.ack();
  const e = await a.consumer({ group: 'g' }).recv();
  expect([e?.offset, e?.value]).toEqual([1, 'y']);
});

it('demand: a consumer that nobody reads from takes nothing from its competitor', async () => {
  const served = createBus();
  open.push(served);
  const t = client(served).topic<number>('t', { groups: ['g'] });
  await t.publishBatch([0, 1, 2, 3]);
  const idle = t.consumer({ group: 'g' });
  const busy = t.consumer({ group: 'g' });
  const got: number[] = [];
  for (let i = 0; i < 4; i++) {
    const d = await busy.recv();
    got.push(d!.value);
    d!.ack();
  }
  expect(got).toEqual([0, 1, 2, 3]);
  expect(idle.held).toBe(0);
});

it('closing a client bus returns what its consumers hold and leaves the served topic open for the others', async () => {
  const served = createBus();
  open.push(served);
  const leaving = client(served);
  const t = leaving.topic<string>('t', { groups: ['g'], ackTimeoutMs: 600_000 });
  await t.publish('held');
  const d = await t.consumer({ group: 'g' }).recv();
  expect(d?.value).toBe('held');
  await leaving.close();
  await expect(t.publish('after')).rejects.toBeInstanceOf(ClosedError);
  expect(served.topic('t').closed).toBe(false);
  const again = await client(served).topic<string>('t').consumer({ group: 'g' }).recv();
  expect([again?.value, again?.deliveryCount]).toEqual(['held', 2]);
});
