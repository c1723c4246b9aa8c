import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { json } from '../../src/codec/index.js';
import { ConfigError, createBus, type DeliveryRecord, type MemberPort, memoryEngine, type Storage, StorageError } from '../../src/index.js';

/** Resolves at the member's next ready signal. */
function nextReady(m: MemberPort<unknown>): Promise<void> {
  return new Promise((resolve) => {
    m.onReady = { ready: resolve };
  });
}

/** Polls what the member holds now. */
function pollAll<T>(m: MemberPort<T>): DeliveryRecord<T>[] {
  const out: DeliveryRecord<T>[] = [];
  for (let r = m.poll(); r !== undefined; r = m.poll()) out.push(r);
  return out;
}

describe('createBus() and createBus({ engine: memoryEngine() })', () => {
  it('createBus() is the memory engine built directly: same-turn visibility, tryPublish publishes, ready() at once', async () => {
    const bus = createBus();
    await expect(bus.ready()).resolves.toBeUndefined();
    const t = bus.topic<number>('t', { groups: ['g'] });
    const c = t.consumer({ group: 'g' });
    expect(t.tryPublish(1)).toBe(true);
    expect(c.tryRecv()?.value).toBe(1);
    await bus.close();
  });

  it('createBus({ engine: memoryEngine() }) runs every face over the seam: tryPublish answers false, publish and recv work', async () => {
    const bus = createBus({ engine: memoryEngine() });
    await expect(bus.ready()).resolves.toBeUndefined();
    const t = bus.topic<number>('t', { groups: ['g'] });
    expect(t.tryPublish(1)).toBe(false); // the generic Topic never asks the engine for room synchronously
    const c = t.consumer({ group: 'g' });
    await t.publishBatch([1, 2]);
    const d = await c.recv();
    expect([d?.value, d?.offset, d?.deliveryCount]).toEqual([1, 0, 1]);
    expect(d?.nack()).toBe(true);
    const again = await c.recv();
    expect([again?.value, again?.deliveryCount]).toEqual([1, 2]);
    again?.ack();
    expect((await c.recv())?.value).toBe(2);
    await bus.close();
    expect(t.closed).toBe(true);
  });

  it('buses over one memory engine share its topics; it closes with the last of them', async () => {
    const engine = memoryEngine();
    const a = createBus({ engine });
    const b = createBus({ engine });
    const t = b.topic<string>('t', { groups: ['g'] });
    const c = t.consumer({ group: 'g' });
    await a.topic<string>('t').publish('across');
    expect((await c.recv())?.value).toBe('across');
    await a.close(); // b still uses the engine
    await t.publish('still open');
    expect((await c.recv())?.value).toBe('still open');
    await b.close();
    await expect(engine.openTopic('t').then((x) => x.stats().closed)).resolves.toBe(true);
  });

  it('an engine that is not one is a ConfigError naming `engine`', () => {
    expect(() => createBus({ engine: 42 as never })).toThrow(ConfigError);
    expect(() => createBus({ engine: { name: 'x' } as never })).toThrow(/`engine` must be an Engine/);
  });

  it("what cannot cross the seam is refused with a ConfigError naming 'memory' and the option", () => {
    const scheduler = new VirtualTimeScheduler();
    expect(() => createBus({ engine: memoryEngine(), scheduler })).toThrow(/the memory engine does not support `scheduler`: .*memoryEngine\(\{ scheduler \}\)/);
    const bus = createBus({ engine: memoryEngine() });
    const t = bus.topic<number>('t');
    let caught: unknown;
    try {
      bus.topic('c', { codec: json });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).option).toBe('codec');
    expect(() => t.consumer({ returnOnGc: true })).toThrow(/memory engine does not support `returnOnGc`/);
    expect(() => memoryEngine({ bogus: 1 } as never)).toThrow(/`bogus` is not an option of memory engine options/);
    expect(() => memoryEngine({ scheduler: 42 as never })).toThrow(ConfigError);
  });

  it("memoryEngine({ scheduler }) runs the engine's timers on it: an ack timeout fires in virtual time only", async () => {
    const scheduler = new VirtualTimeScheduler();
    const bus = createBus({ engine: memoryEngine({ scheduler }) });
    const t = bus.topic<number>('t', { groups: ['g'], ackTimeoutMs: 100 });
    const c = t.consumer({ group: 'g' });
    await t.publish(7);
    const d = await c.recv();
    await new Promise((r) => setTimeout(r, 150)); // wall time does not move it
    expect(d?.settled).toBe(false);
    scheduler.maxFrames = 99;
    scheduler.flush();
    expect(d?.settled).toBe(false);
    scheduler.maxFrames = 300;
    scheduler.flush();
    expect(d?.settled).toBe(true); // timed out: stale
    const again = await c.recv();
    expect([again?.value, again?.deliveryCount]).toEqual([7, 2]);
    await bus.close();
  });
});

describe('memoryEngine().openTopic on its own', () => {
  it('publishes batches, serves members by demand, settles, commits, seeks and reports stats', async () => {
    const engine = memoryEngine();
    await engine.connect();
    const t = await engine.openTopic('t', { groups: ['g'] });
    expect(await t.publish([{ value: 'a' }, { value: 'b', key: 'k', headers: { h: '1' } }, { value: 'c' }])).toEqual([0, 1, 2]);
    const m = t.openMember<string>({ group: 'g', prefetch: 2 });
    expect(m.group).toBe('g');
    expect(m.desiredSize).toBe(0);
    const ready = nextReady(m);
    m.desiredSize = 5;
    expect(m.desiredSize).toBe(2); // never more than prefetch minus held
    await ready; // more demand: the member says it may be polled
    const [a, b, none] = [m.poll(), m.poll(), m.poll()];
    expect([a?.value, b?.value, b?.key, b?.headers]).toEqual(['a', 'b', 'k', { h: '1' }]);
    expect(none).toBeUndefined(); // the prefetch window is full
    expect([m.held, m.desiredSize]).toEqual([2, 0]);
    a!.settle({ kind: 'ack' });
    b!.settle({ kind: 'nack', delayMs: 0 });
    expect(a!.settled).toBe(true);
    const [b2, c] = pollAll(m);
    expect([b2?.value, b2?.deliveryCount, c?.value]).toEqual(['b', 2, 'c']);
    expect(await m.commit(3)).toBe(true);
    expect([b2!.settled, c!.settled, m.held]).toEqual([true, true, 0]);
    expect(t.stats().groups.g).toMatchObject({ committed: 3, nacked: 1, pending: 0 });
    expect(await m.seek(1)).toBe(true);
    expect(m.poll()?.value).toBe('b');
    await m.close();
    expect(m.done).toBe(true);
    await engine.close();
  });

  it('a member with demand is told of each publish; one without is not, and takes nothing', async () => {
    const engine = memoryEngine();
    const t = await engine.openTopic('t', { groups: ['g'] });
    const idle = t.openMember<number>({ group: 'g', prefetch: 10 });
    let idleCalls = 0;
    idle.onReady = { ready: () => idleCalls++ };
    const busy = t.openMember<number>({ group: 'g', prefetch: 10 });
    const got: number[] = [];
    busy.onReady = {
      ready: () => {
        for (const r of pollAll(busy)) {
          got.push(r.value);
          r.settle({ kind: 'ack' });
        }
      },
    };
    busy.desiredSize = 10;
    await t.publish([{ value: 1 }, { value: 2 }]);
    await t.publish([{ value: 3 }]);
    expect(got).toEqual([1, 2, 3]);
    expect([idleCalls, idle.held]).toEqual([0, 0]);
    await engine.close();
  });

  it('close() returns what the member holds to the group; leave() keeps what it handed out settleable', async () => {
    const engine = memoryEngine();
    const t = await engine.openTopic('t', { groups: ['g'], ackTimeoutMs: 60_000 });
    await t.publish([{ value: 1 }, { value: 2 }]);
    const m1 = t.openMember<number>({ group: 'g', prefetch: 10 });
    const [r1, r2] = pollAll(m1);
    await m1.close();
    expect([r1!.settled, r2!.settled]).toEqual([true, true]);
    const m2 = t.openMember<number>({ group: 'g', prefetch: 10 });
    const back = pollAll(m2);
    expect(back.map((r) => [r.value, r.deliveryCount])).toEqual([
      [1, 2],
      [2, 2],
    ]);
    m2.leave();
    expect(m2.done).toBe(true);
    expect(m2.poll()).toBeUndefined();
    expect(back[0]!.settled).toBe(false); // still settleable after leaving
    back[0]!.settle({ kind: 'ack' });
    expect(t.stats().groups.g).toMatchObject({ acked: 1 });
    await engine.close();
  });

  it('a closed topic: members drain, then are done; publishing rejects; destroy removes it', async () => {
    const engine = memoryEngine();
    const t = await engine.openTopic('t', { groups: ['g'] });
    await t.publish([{ value: 1 }]);
    const m = t.openMember<number>({ group: 'g', prefetch: 4 });
    await t.close();
    await expect(t.publish([{ value: 2 }])).rejects.toThrow(/closed/);
    expect(m.done).toBe(false);
    const r = m.poll();
    r!.settle({ kind: 'ack' });
    expect(m.done).toBe(true);
    await t.destroy();
    const fresh = await engine.openTopic('t');
    expect(fresh.stats()).toMatchObject({ published: 0, closed: false });
    await engine.close();
  });

  it('openTopic with options that differ from the existing topic rejects with a ConfigError naming the option', async () => {
    const engine = memoryEngine();
    await engine.openTopic('t', { capacity: 8 });
    await expect(engine.openTopic('t')).resolves.toBeDefined();
    const e = await engine.openTopic('t', { capacity: 16 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).option).toBe('capacity');
    await expect(engine.openTopic('', {})).rejects.toBeInstanceOf(ConfigError);
    await engine.close();
  });

  it('a publish waiting for room under block: an abort withdraws what still waits, the prefix stays (as publishBatch)', async () => {
    const engine = memoryEngine();
    const t = await engine.openTopic('t', { capacity: 2, groups: ['g'] });
    await t.publish([{ value: 0 }]);
    const ac = new AbortController();
    const p = t.publish([{ value: 1 }, { value: 2 }], ac.signal);
    ac.abort(new Error('gave up'));
    await expect(p).rejects.toThrow('gave up');
    expect(t.stats()).toMatchObject({ published: 2, waitingPublishers: 0 });
    const m = t.openMember<number>({ group: 'g', prefetch: 10 });
    const got = pollAll(m);
    for (const r of got) r.settle({ kind: 'ack' });
    expect(got.map((r) => r.value)).toEqual([0, 1]);
    expect(t.stats().tail).toBe(2); // 2 never went in
    await engine.close();
  });
});

describe('memoryEngine({ storage }) opens topics asynchronously', () => {
  it("openTopic waits for the topic's store, and rejects with the StorageError when it cannot open", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const storage: Storage = {
      name: 'test:failing',
      async open(topic) {
        await gate;
        throw new Error(`no room for ${topic}`);
      },
    };
    const engine = memoryEngine({ storage });
    let settled = false;
    const opening = engine.openTopic('t').finally(() => (settled = true));
    opening.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 10));
    expect(settled).toBe(false); // still waiting for the store
    release();
    const e = await opening.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StorageError);
    expect((e as Error).message).toMatch(/no room for t/);
    await engine.close();
  });
});
