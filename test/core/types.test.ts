import type { AsyncIterableX } from 'ix/asynciterable';
import type { Observable } from 'rxjs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  channel,
  ClosedError,
  CodecError,
  ConfigError,
  type Consumer,
  createBus,
  type Delivery,
  isRingbusError,
  RingbusError,
  StorageError,
  TimeoutError,
  type Topic,
  TopicFullError,
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
