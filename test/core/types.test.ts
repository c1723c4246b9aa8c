import type { AsyncIterableX } from 'ix/asynciterable';
import type { Observable } from 'rxjs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type Codec, encodeFrame, json, jsonCodec, msgpack, msgpackCodec, type RoundTrips } from '../../src/codec/index.js';
import type { FileTopicStats } from '../../src/node/index.js';
import {
  channel,
  ClosedError,
  CodecError,
  type CodecErrorReason,
  ConfigError,
  type Consumer,
  createBus,
  type Delivery,
  isRingbusError,
  RingbusError,
  StorageError,
  type StoreStats,
  TimeoutError,
  type Topic,
  TopicFullError,
  type TopicStats,
} from '../../src/index.js';

interface Order {
  id: number;
}

describe('public types', () => {
  it('Topic<T> in, Delivery<T> out, through every face', () => {
    const t = createBus().topic<Order>('orders');
    expectTypeOf(t).toEqualTypeOf<Topic<Order>>();
    expectTypeOf(t.publish).parameter(0).toEqualTypeOf<Order>();
    expectTypeOf(t.publish).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf(t.publishBatch).returns.toEqualTypeOf<Promise<number[]>>();
    expectTypeOf(t.consumer()).toEqualTypeOf<Consumer<Order>>();
    expectTypeOf(t.consumer().recv()).toEqualTypeOf<Promise<Delivery<Order> | undefined>>();
    expectTypeOf(t.consumer().tryRecv()).toEqualTypeOf<Delivery<Order> | undefined>();
    expectTypeOf(t.consumer().recvBatch(2)).toEqualTypeOf<Promise<Delivery<Order>[]>>();
    expectTypeOf(t.messages()).toEqualTypeOf<Observable<Delivery<Order>>>();
    expectTypeOf(t.values()).toEqualTypeOf<Observable<Order>>();
    expectTypeOf(t.readable()).toEqualTypeOf<ReadableStream<Delivery<Order>>>();
    expectTypeOf(t.writable()).toEqualTypeOf<WritableStream<Order>>();
    expectTypeOf(t.consume()).toEqualTypeOf<AsyncIterableX<Delivery<Order>>>();
    expectTypeOf<Delivery<Order>['value']>().toEqualTypeOf<Order>();
    expectTypeOf(t.consumer()).toMatchTypeOf<AsyncIterable<Delivery<Order>>>();
    expectTypeOf(t.consumer({ filter: (m) => m.value.id > 0 })).toEqualTypeOf<Consumer<Order>>();
    // @ts-expect-error a topic of Order does not take strings
    void (() => t.tryPublish('nope'));
  });

  it('channel<T> gives a typed Sender and Receiver', () => {
    const [tx, rx] = channel<Order>(4);
    expectTypeOf(tx.send).parameter(0).toEqualTypeOf<Order>();
    expectTypeOf(rx.recv()).toEqualTypeOf<Promise<Delivery<Order> | undefined>>();
    tx.close();
  });

  it('errors share one base, a code, and a cross-copy brand', () => {
    const all = [new ConfigError('x', 'm'), new TopicFullError('t', 1), new ClosedError('m'), new TimeoutError('m'), new CodecError('corrupt', 'm'), new StorageError('m')];
    expect(all.map((e) => e.code)).toEqual(['ERR_CONFIG', 'ERR_TOPIC_FULL', 'ERR_CLOSED', 'ERR_TIMEOUT', 'ERR_CODEC', 'ERR_STORAGE']);
    for (const e of all) {
      expect(e).toBeInstanceOf(RingbusError);
      expect(isRingbusError(e)).toBe(true);
      expect(e.name).toBe(e.constructor.name);
    }
    const foreign = Object.assign(new Error('x'), { [Symbol.for('ringbus.error')]: true });
    expect(isRingbusError(foreign)).toBe(true);
    expect(isRingbusError(new Error('x'))).toBe(false);
    expect(isRingbusError(null)).toBe(false);
    const cause = new Error('root');
    expect(new StorageError('disk', { cause }).cause).toBe(cause);
  });
});

/** An order as users write it: an interface, optional fields, nested arrays. */
interface Invoice {
  id: number;
  customer?: string;
  lines: { sku: string; qty: number }[];
  paid: boolean | null;
}

interface Tree {
  name: string;
  children: Tree[];
}

class Money {
  constructor(readonly cents: number) {}
  format(): string {
    return `${this.cents / 100}`;
  }
}

describe('codec types: json and msgpack only for values they give back', () => {
  const bus = createBus();

  it('json takes JSON data, interfaces and recursive types included', () => {
    expectTypeOf(bus.topic<Invoice>('a', { codec: json })).toEqualTypeOf<Topic<Invoice>>();
    expectTypeOf(bus.topic<Tree>('b', { codec: json })).toEqualTypeOf<Topic<Tree>>();
    expectTypeOf(bus.topic<string[]>('c', { codec: json })).toEqualTypeOf<Topic<string[]>>();
    expectTypeOf(bus.topic<unknown>('d', { codec: json })).toEqualTypeOf<Topic<unknown>>();
    expectTypeOf(bus.topic('e', { codec: json })).toEqualTypeOf<Topic<any>>();
  });

  it('json refuses a Date, a Map, a bigint, a class with methods, a typed array, at any depth', () => {
    // @ts-expect-error a Date comes back from JSON as a string
    void (() => bus.topic<{ at: Date }>('f', { codec: json }));
    // @ts-expect-error a Date inside an array inside an object
    void (() => bus.topic<{ events: { at: Date }[] }>('g', { codec: json }));
    // @ts-expect-error a Map comes back as {}
    void (() => bus.topic<Map<string, number>>('h', { codec: json }));
    // @ts-expect-error JSON cannot encode a bigint
    void (() => bus.topic<{ id: bigint }>('i', { codec: json }));
    // @ts-expect-error the method is lost
    void (() => bus.topic<Money>('j', { codec: json }));
    // @ts-expect-error a Uint8Array comes back as { "0": … }
    void (() => bus.topic<Uint8Array>('k', { codec: json }));
    // @ts-expect-error one member of a union that JSON does not keep is enough
    void (() => bus.topic<string | Date>('l', { codec: json }));
    // @ts-expect-error per-message codec too
    void (() => bus.topic<{ at: Date }>('m').publish({ at: new Date() }, { codec: json }));
    // @ts-expect-error and frames
    void (() => encodeFrame<{ at: Date }>({ at: new Date() }, { codec: json }));
  });

  it('msgpack keeps Dates and Uint8Arrays, refuses Maps, Sets, bigints and methods', () => {
    expectTypeOf(bus.topic<{ at: Date; blob: Uint8Array }>('n', { codec: msgpack })).toEqualTypeOf<Topic<{ at: Date; blob: Uint8Array }>>();
    expectTypeOf(bus.topic<Invoice>('o', { codec: msgpack })).toEqualTypeOf<Topic<Invoice>>();
    // @ts-expect-error a Set comes back as {}
    void (() => bus.topic<{ tags: Set<string> }>('p', { codec: msgpack }));
    // @ts-expect-error the default msgpack codec cannot encode a bigint (msgpackCodec({ useBigInt64: true }) can)
    void (() => bus.topic<bigint>('q', { codec: msgpack }));
    // @ts-expect-error the method is lost
    void (() => bus.topic<Money>('r', { codec: msgpack }));
  });

  it('a codec made for the type is the user\'s promise, and is taken', () => {
    const dates = jsonCodec<{ at: Date }>({ reviver: (key, value) => (key === 'at' ? new Date(value as string) : value) });
    expectTypeOf(bus.topic<{ at: Date }>('s', { codec: dates })).toEqualTypeOf<Topic<{ at: Date }>>();
    const big = msgpackCodec<bigint>({ useBigInt64: true });
    expectTypeOf(bus.topic<bigint>('t', { codec: big })).toEqualTypeOf<Topic<bigint>>();
    const custom: Codec<Map<string, number>> = {
      name: 'map', contentType: 'application/json', id: 16,
      encode: (m) => json.encode([...m]),
      decode: (b) => new Map(json.decode(b) as [string, number][]),
    };
    expectTypeOf(bus.topic<Map<string, number>>('u', { codec: custom })).toEqualTypeOf<Topic<Map<string, number>>>();
    expectTypeOf<RoundTrips<{ at: Date }, 'json'>>().toEqualTypeOf<false>();
    expectTypeOf<RoundTrips<{ at: Date }, 'msgpack'>>().toEqualTypeOf<true>();
  });

  it('what json gives back for a Date is a string, which is why it is refused', () => {
    const at = new Date(0);
    expect(json.decode(json.encode({ at }))).toEqual({ at: at.toISOString() });
    expect(msgpack.decode(msgpack.encode({ at }))).toEqual({ at });
  });
});

describe('error and stats types', () => {
  it('CodecError.reason is the documented union', () => {
    expectTypeOf<CodecError['reason']>().toEqualTypeOf<CodecErrorReason>();
    expectTypeOf<'too-large'>().toMatchTypeOf<CodecErrorReason>();
    expectTypeOf<'decode-error'>().toMatchTypeOf<CodecErrorReason>();
    // @ts-expect-error not a reason
    void (() => new CodecError('oops', 'm'));
    const e = new CodecError('truncated', 'm');
    if (e.reason === 'truncated') expect(e.reason).toBe('truncated');
  });

  it('TopicStats.storage is the store\'s figures, absent without a storage', () => {
    expectTypeOf<TopicStats['storage']>().toEqualTypeOf<StoreStats | undefined>();
    expectTypeOf<FileTopicStats>().toMatchTypeOf<StoreStats>();
    expect(createBus().topic('memory').stats().storage).toBeUndefined();
  });

  it('stats.groups has an entry per group and none for other names', async () => {
    const t = createBus().topic<number>('g', { groups: ['billing'] });
    expect(Object.keys(t.stats().groups)).toEqual(['billing']);
    expect(t.stats().groups['nope']).toBeUndefined();
  });
});
