import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { json } from '../../src/codec/index.js';
import { ConfigError, createBus } from '../../src/index.js';
import { natsEngine } from '../../src/nats/index.js';
import { NATS_URL, nats, prefixPerTest } from './service.js';

const prefix = prefixPerTest();

describe('natsEngine options', () => {
  it('refuses bad options with a ConfigError naming the option', () => {
    expect(() => natsEngine(undefined as never)).toThrow(ConfigError);
    expect(() => natsEngine({} as never)).toThrow(expect.objectContaining({ option: 'servers' }));
    expect(() => natsEngine({ servers: 'nats://x', connection: {} } as never)).toThrow(expect.objectContaining({ option: 'servers' }));
    expect(() => natsEngine({ servers: [] })).toThrow(expect.objectContaining({ option: 'servers' }));
    expect(() => natsEngine({ connection: {} as never })).toThrow(expect.objectContaining({ option: 'connection' }));
    expect(() => natsEngine({ servers: 'nats://x', prefix: 'a.b' })).toThrow(expect.objectContaining({ option: 'prefix' }));
    expect(() => natsEngine({ servers: 'nats://x', streamStorage: 'disk' as never })).toThrow(expect.objectContaining({ option: 'streamStorage' }));
  });

  it('refuses what it lacks with a ConfigError naming nats and the option', async () => {
    const bus = createBus({ engine: natsEngine({ servers: NATS_URL, prefix: 'never-used' }) });
    bus.ready().catch(() => undefined);
    for (const [options, option] of [
      [{ codec: json }, 'codec'],
      [{ priorities: 3 }, 'priorities'],
      [{ maxConsecutive: 2 }, 'maxConsecutive'],
      [{ ordering: 'key' }, 'ordering'],
    ] as const) {
      let error: unknown;
      try {
        bus.topic('t', options as never);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).option).toBe(option);
      expect((error as Error).message).toContain('the nats engine does not support');
    }
    const t = bus.topic('t');
    for (const option of ['delayMs', 'deliverAt'] as const) {
      await expect(t.publish(1, { [option]: 1_000 })).rejects.toMatchObject({ option, message: expect.stringContaining('the nats engine does not support') });
    }
    void bus.close();
  });
});

describe.skipIf(!nats.available)(`natsEngine on the server${nats.available ? '' : ` (${nats.reason})`}`, () => {
  it('{ connection }: uses the caller’s connection and leaves it open', async () => {
    const nc = await connect({ servers: NATS_URL });
    try {
      const bus = createBus({ engine: natsEngine({ connection: nc, prefix: prefix() }) });
      const t = bus.topic<string>('t', { groups: ['g'] });
      await t.publish('x');
      expect((await t.consumer({ group: 'g' }).recv())?.value).toBe('x');
      await bus.close();
      expect(nc.isClosed()).toBe(false);
    } finally {
      await nc.close();
    }
  });

  it("a second process's bus opens the topic with the first one's options, and is refused different ones", async () => {
    const p = prefix();
    const a = createBus({ engine: natsEngine({ servers: NATS_URL, prefix: p }) });
    const b = createBus({ engine: natsEngine({ servers: NATS_URL, prefix: p }) });
    try {
      const ta = a.topic<number>('orders.eu', { capacity: 3, overflow: 'reject', groups: ['g'] });
      await ta.publishBatch([1, 2, 3]);
      const tb = b.topic<number>('orders.eu');
      await expect(tb.publish(4)).rejects.toMatchObject({ name: 'TopicFullError' });
      await expect(b.topic<number>('orders.eu2', {}).publish(1)).resolves.toBe(0);
      const c = createBus({ engine: natsEngine({ servers: NATS_URL, prefix: p }) });
      await expect(c.topic<number>('orders.eu', { capacity: 4 }).publish(1)).rejects.toMatchObject({ name: 'ConfigError', option: 'capacity' });
      await c.close();
      const nc = await connect({ servers: NATS_URL });
      const names: string[] = [];
      for await (const n of (await jetstreamManager(nc)).streams.names()) if (n.startsWith(`${p}_`)) names.push(n);
      await nc.close();
      expect(names.sort()).toEqual([`${p}_orders_2e_eu`, `${p}_orders_2e_eu2`]); // '.' encoded
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('the ack timeout runs from hand-out (nats.js #218): deliveries taken from the buffer long after they arrived are not redelivered to a competing member', async () => {
    const bus = createBus({ engine: natsEngine({ servers: NATS_URL, prefix: prefix() }) });
    try {
      const t = bus.topic<number>('t', { groups: ['g'], ackTimeoutMs: 1_000 });
      await t.publishBatch([0, 1, 2, 3]);
      const slow = t.consumer({ group: 'g', prefetch: 4 })[Symbol.asyncIterator]();
      const first = (await slow.next()).value!;
      await new Promise((r) => setTimeout(r, 200)); // the other three arrive in its buffer
      const competing = t.consumer({ group: 'g' }).recvTimeout(2_700);
      const taken = [first];
      expect(first.ack()).toBe(true);
      for (let i = 1; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 600)); // the last is taken 2 s after it arrived
        const d = (await slow.next()).value!;
        taken.push(d);
        expect(d.ack()).toBe(true);
      }
      expect(taken.map((d) => [d.value, d.deliveryCount])).toEqual([[0, 1], [1, 1], [2, 1], [3, 1]]);
      expect(await competing).toBeUndefined();
      await slow.return!();
    } finally {
      await bus.close();
    }
  });

  it('a delivery past its ack timeout answers false and sends nothing: the redelivered copy stays the one to settle', async () => {
    const bus = createBus({ engine: natsEngine({ servers: NATS_URL, prefix: prefix() }) });
    try {
      const t = bus.topic<string>('t', { groups: ['g'], ackTimeoutMs: 300 });
      await t.publish('slow');
      const first = await t.consumer({ group: 'g' }).recv();
      await new Promise((r) => setTimeout(r, 450));
      expect(first!.settled).toBe(true);
      expect(first!.ack()).toBe(false);
      const again = await t.consumer({ group: 'g' }).recv();
      expect([again?.value, again?.deliveryCount]).toEqual(['slow', 2]);
      expect(again!.ack()).toBe(true);
    } finally {
      await bus.close();
    }
  });
});
