import { afterEach, describe, expect, it } from 'vitest';
import { json } from '../../src/codec/index.js';
import { type Bus, ClosedError, CodecError, ConfigError, createBus, portEngine, serveBus, StorageError, TimeoutError, TopicFullError } from '../../src/index.js';
import { fromWire, PROTOCOL_VERSION, toWire } from '../../src/internal/port/protocol.js';

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

/** A served memory bus and a client bus over a MessageChannel. */
function pair(options: { heartbeatMs?: number } = {}): { served: Bus; bus: Bus; port1: MessagePort; port2: MessagePort } {
  const served = createBus();
  const { port1, port2 } = new MessageChannel();
  const server = serveBus(served, port1);
  const bus = createBus({ engine: portEngine(port2, { heartbeatMs: options.heartbeatMs ?? 0 }) });
  open.push(bus, served, server);
  return { served, bus, port1, port2 };
}

/** Speaks the protocol by hand over a port served by `served`. */
function rawClient(served: Bus): {
  send(...messages: object[]): void;
  replies: Record<string, unknown>[];
  posts: Record<string, unknown>[][];
  next(pred: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  close(): void;
} {
  const { port1, port2 } = new MessageChannel();
  const server = serveBus(served, port1, { missedHeartbeats: 2 });
  const replies: Record<string, unknown>[] = [];
  const posts: Record<string, unknown>[][] = [];
  port2.onmessage = (e) => {
    const post = e.data as Record<string, unknown>[]; // the server posts arrays of messages
    posts.push(post);
    replies.push(...post);
  };
  const client = {
    send: (...messages: object[]) => port2.postMessage(messages),
    replies,
    posts,
    async next(pred: (m: Record<string, unknown>) => boolean) {
      const deadline = Date.now() + 5_000;
      for (;;) {
        const m = replies.find(pred);
        if (m !== undefined) return m;
        if (Date.now() > deadline) throw new Error('no such message from the server');
        await new Promise((r) => setTimeout(r, 2));
      }
    },
    close: () => {
      port2.close();
      server.close();
    },
  };
  open.push(client);
  return client;
}

describe('errors cross the port as the same classes', () => {
  it('every error class keeps its class, code, message and fields through the wire form', () => {
    const cases: Error[] = [
      new ConfigError('capacity', '`capacity` must be an integer'),
      new ClosedError('topic `t` is closed'),
      new TopicFullError('orders', 8),
      new CodecError('too-large', 'payload over 10 bytes'),
      new StorageError('disk full'),
      new TimeoutError('no answer'),
    ];
    for (const e of cases) {
      const back = fromWire(structuredClone(toWire(e)));
      expect(back).toBeInstanceOf(e.constructor);
      expect(back).toMatchObject({ name: e.name, message: e.message, code: (e as unknown as { code: string }).code });
    }
    expect(fromWire(toWire(new ConfigError('capacity', 'x')))).toMatchObject({ option: 'capacity' });
    expect(fromWire(toWire(new TopicFullError('orders', 8)))).toMatchObject({ topic: 'orders', message: 'topic `orders` is full (capacity 8)' });
    expect(fromWire(toWire(new CodecError('too-large', 'x')))).toMatchObject({ reason: 'too-large' });
    const plain = fromWire(toWire(new RangeError('odd')));
    expect([plain.name, plain.message]).toEqual(['RangeError', 'odd']);
  });

  it('options that differ from the served topic: ConfigError naming the option, from the server', async () => {
    const { served, bus } = pair();
    served.topic('t', { capacity: 8 });
    const t = bus.topic<number>('t', { capacity: 16 });
    const e = await t.publish(1).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect(e).toMatchObject({ code: 'ERR_CONFIG', option: 'capacity' });
    expect((e as Error).message).toMatch(/topic `t` exists with a different `capacity`/);
    // a consumer of that topic fails with the same error
    await expect(t.consumer().recv()).rejects.toBeInstanceOf(ConfigError);
  });

  it('a full topic under reject: TopicFullError with the topic name; a closed one: ClosedError', async () => {
    const { served, bus } = pair();
    served.topic('t', { capacity: 1, overflow: 'reject', groups: ['g'] });
    const t = bus.topic<number>('t');
    expect(await t.publish(1)).toBe(0);
    const full = await t.publish(2).catch((x: unknown) => x);
    expect(full).toBeInstanceOf(TopicFullError);
    expect(full).toMatchObject({ code: 'ERR_TOPIC_FULL', topic: 't' });
    await served.topic('t').close();
    await expect(t.publish(3)).rejects.toBeInstanceOf(ClosedError);
  });

  it('an unknown topic or member handle: a ConfigError reply naming it', async () => {
    const raw = rawClient(createBus());
    raw.send({ id: 1, op: 'publish', topic: 99, entries: [{ value: 1, options: {} }] }, { id: 2, op: 'commit', member: 7, offset: 0 });
    const r1 = await raw.next((m) => m.id === 1);
    const r2 = await raw.next((m) => m.id === 2);
    expect(fromWire(r1.error as never)).toMatchObject({ name: 'ConfigError', option: 'topic', message: 'no topic is open under handle 99' });
    expect(fromWire(r2.error as never)).toMatchObject({ name: 'ConfigError', option: 'member' });
  });

  it('a protocol version the server does not speak is refused', async () => {
    const raw = rawClient(createBus());
    raw.send({ id: 1, op: 'hello', version: 99, heartbeatMs: 0 });
    const r = await raw.next((m) => m.id === 1);
    expect(fromWire(r.error as never)).toMatchObject({ name: 'ConfigError', option: 'version' });
  });
});

describe('the wire', () => {
  it('deliveries cross by column in chunks of at most 256, each ending the array it is posted in', async () => {
    const served = createBus();
    open.push(served);
    const t = served.topic<number>('t', { capacity: 1024, groups: ['g'] });
    await t.publishBatch(Array.from({ length: 600 }, (_, i) => i));
    const raw = rawClient(served);
    raw.send(
      { id: 1, op: 'hello', version: PROTOCOL_VERSION, heartbeatMs: 0 },
      { id: 2, op: 'topic', topic: 0, name: 't', options: undefined },
      { id: 3, op: 'member', topic: 0, member: 0, options: { group: 'g', prefetch: 1024 } },
      { op: 'demand', member: 0, want: 600, received: 0 },
    );
    const delivered = (): Record<string, unknown>[] => raw.replies.filter((m) => m.kind === 'deliveries');
    const count = (): number => delivered().reduce((n, m) => n + (m.values as unknown[]).length, 0);
    await raw.next(() => count() === 600);
    const chunks = delivered();
    expect(chunks.map((m) => (m.values as unknown[]).length)).toEqual([256, 256, 88]);
    expect(chunks.flatMap((m) => m.values as number[])).toEqual(Array.from({ length: 600 }, (_, i) => i));
    expect(chunks.flatMap((m) => m.offsets as number[])).toEqual(Array.from({ length: 600 }, (_, i) => i));
    expect(chunks.map((m) => m.first)).toEqual([0, 256, 512]);
    // first deliveries: no key, no headers, deliveryCount 1, unsettled — those columns are left out
    expect(chunks.every((m) => m.keys === undefined && m.headers === undefined && m.deliveryCounts === undefined && m.settled === undefined)).toBe(true);
    for (const post of raw.posts) {
      const i = post.findIndex((m) => m.kind === 'deliveries');
      if (i >= 0) expect(i).toBe(post.length - 1);
    }
    // acks by token run: all 600 settle on the server
    raw.send({ op: 'acks', member: 0, tokens: Array.from({ length: 600 }, (_, i) => i) }, { id: 4, op: 'stats', topic: 0 });
    const stats = await raw.next((m) => m.id === 4);
    expect(stats.stats).toMatchObject({ groups: { g: { pending: 0, acked: 600 } } });
  });
});

describe('what the port engine refuses', () => {
  it('options it lacks: ConfigError naming the engine and the option, synchronously', () => {
    const { bus } = pair();
    expect(() => bus.topic('t', { codec: json })).toThrow(ConfigError);
    expect(() => bus.topic('t', { codec: json })).toThrow(/the port engine does not support `codec`/);
    const t = bus.topic<number>('t');
    expect(() => t.consumer({ returnOnGc: true })).toThrow(/the port engine does not support `returnOnGc`/);
    expect(() => t.messages({ returnOnGc: true })).toThrow(ConfigError);
    expect(() => createBus({ engine: portEngine(new MessageChannel().port1), storage: {} as never })).toThrow(/the port engine does not support `storage`/);
  });

  it('bad engine and server options are ConfigErrors', () => {
    expect(() => createBus({ engine: {} as never })).toThrow(ConfigError);
    expect(() => portEngine({} as never)).toThrow(/`port` must be a MessagePort-like object/);
    expect(() => portEngine(new MessageChannel().port1, { heartbeatMs: -1 })).toThrow(ConfigError);
    expect(() => serveBus(createBus(), new MessageChannel().port1, { missedHeartbeats: 0 })).toThrow(ConfigError);
  });

  it('tryPublish never publishes (room is not known in this thread), but validates and refuses a closed topic', async () => {
    const { bus } = pair();
    const t = bus.topic<number>('t');
    expect(t.tryPublish(1)).toBe(false);
    expect(() => t.tryPublish(1, { ttlMs: -1 })).toThrow(ConfigError);
    await t.close();
    expect(() => t.tryPublish(1)).toThrow(ClosedError);
  });
});

describe('a client that goes away', () => {
  it('no server: ready() rejects with TimeoutError after connectTimeoutMs', async () => {
    const { port2 } = new MessageChannel();
    const bus = createBus({ engine: portEngine(port2, { connectTimeoutMs: 30, heartbeatMs: 0 }) });
    await expect(bus.ready()).rejects.toBeInstanceOf(TimeoutError);
    port2.close();
  });

  it('the server stops serving: a waiting recv rejects with ClosedError', async () => {
    const served = createBus();
    const { port1, port2 } = new MessageChannel();
    const server = serveBus(served, port1);
    const bus = createBus({ engine: portEngine(port2, { heartbeatMs: 0 }) });
    open.push(served);
    const c = bus.topic<number>('t').consumer();
    await bus.ready();
    const r = c.recv();
    server.close();
    await expect(r).rejects.toBeInstanceOf(ClosedError);
  });

  /** port2 of a new channel as a browser's MessagePort looks: no close event; the client's pings dropped while `silent.on`. */
  function browserLikePort(port2: MessagePort, silent: { on: boolean }) {
    return {
      postMessage(calls: { op: string }[]) {
        const kept = silent.on ? calls.filter((c) => c.op !== 'ping') : calls;
        if (kept.length > 0) port2.postMessage(kept);
      },
      set onmessage(f: ((e: MessageEvent) => void) | null) {
        port2.onmessage = f;
      },
      close: () => port2.close(),
    };
  }

  it('the server stops serving a client whose port has no close event: its waiting recv and its calls reject with ClosedError, not hang', async () => {
    const served = createBus();
    const { port1, port2 } = new MessageChannel();
    const server = serveBus(served, port1);
    const bus = createBus({ engine: portEngine(browserLikePort(port2, { on: false }), { heartbeatMs: 0 }) });
    open.push(served, bus);
    const t = bus.topic<number>('t');
    const r = t.consumer().recv();
    await bus.ready();
    server.close();
    await expect(r).rejects.toThrow(new ClosedError('the served bus stopped serving this client'));
    await expect(t.publish(1)).rejects.toBeInstanceOf(ClosedError);
  });

  it('a live client the server took for gone (its heartbeats lost) is told so: its calls reject with ClosedError naming the heartbeat', async () => {
    const served = createBus();
    const { port1, port2 } = new MessageChannel();
    const server = serveBus(served, port1, { missedHeartbeats: 2 });
    const silent = { on: false };
    const bus = createBus({ engine: portEngine(browserLikePort(port2, silent), { heartbeatMs: 20 }) });
    open.push(served, bus, server);
    const t = bus.topic<number>('t', { groups: ['g'] });
    await t.publish(1);
    await new Promise((r) => setTimeout(r, 100)); // five heartbeats: the server keeps a client that pings
    expect(server.closed).toBe(false);
    const c = t.consumer({ group: 'g', prefetch: 1 });
    expect((await c.recv())?.value).toBe(1); // held, unsettled
    const r = c.recv();
    silent.on = true;
    await expect(r).rejects.toThrow(/took this client for gone: no heartbeat for \d+ ms \(2 missed at 20 ms\)/);
    expect(server.closed).toBe(true);
    await expect(t.publish(2)).rejects.toBeInstanceOf(ClosedError);
    // the held delivery went back to its group
    expect(served.topic('t').stats().groups.g).toMatchObject({ members: 0, delivered: 1 });
    const again = await served.topic<number>('t').consumer({ group: 'g' }).recv();
    expect([again?.value, again?.deliveryCount]).toEqual([1, 2]);
  });

  it('a client whose heartbeat stops has its unsettled deliveries returned at once (browsers: no close event)', async () => {
    const served = createBus();
    open.push(served);
    const t = served.topic<string>('t', { groups: ['g'], ackTimeoutMs: 600_000 });
    await t.publish('held');
    const raw = rawClient(served);
    raw.send(
      { id: 1, op: 'hello', version: PROTOCOL_VERSION, heartbeatMs: 20 },
      { id: 2, op: 'topic', topic: 0, name: 't', options: undefined },
      { id: 3, op: 'member', topic: 0, member: 0, options: { group: 'g', prefetch: 1 } },
      { op: 'demand', member: 0, want: 1, received: 0 },
    );
    await raw.next((m) => m.kind === 'deliveries');
    expect(t.stats().groups.g).toMatchObject({ members: 1, pending: 1 });
    // silence: no ping, no settle; after two missed heartbeats the server closes its member
    const again = await served.topic<string>('t').consumer({ group: 'g' }).recv();
    expect([again?.value, again?.deliveryCount]).toEqual(['held', 2]);
  });

  it('a value that cannot be cloned is dead-lettered, not redelivered forever', async () => {
    const { served, bus } = pair();
    const t = served.topic<unknown>('t', { groups: ['g'], deadLetter: 'dlq' });
    await t.publish({ f: () => 1 });
    await t.publish('ok');
    const c = bus.topic<unknown>('t').consumer({ group: 'g' });
    const ds = await c.recvBatch(5); // both go out in one batch: the clonable one still arrives
    expect(ds.map((d) => d.value)).toEqual(['ok']);
    expect(served.topic('dlq').stats().published).toBe(1);
  });
});
