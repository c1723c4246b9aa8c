import { partition, share } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createBus, type Delivery } from '../../src/index.js';
import { deadLetterTo } from '../../src/operators/index.js';
import { settle } from '../helpers.js';
import { fake, testScheduler } from './fake.js';

describe('deadLetterTo', () => {
  it('publishes each delivery with the dead-letter headers, acks it, and emits the new offset', () => {
    const ts = testScheduler();
    const dlq = createBus({ scheduler: ts }).topic<string>('dlq');
    const a = fake('a', { topic: 'orders', group: 'billing', offset: 7, deliveryCount: 2, key: 'k', headers: { trace: '1' } });
    const b = fake('b', { topic: 'orders', group: 'billing', offset: 9 });
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b|', { a, b });
      expectObservable(source.pipe(deadLetterTo(dlq, { detail: (d) => `offset ${d.offset}` }))).toBe('-0-1|', { 0: 0, 1: 1 });
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
    expect([a.calls, b.calls]).toEqual([['ack'], ['ack']]);
    const first = dlq.consumer({ from: 'earliest' }).tryRecv();
    expect(first?.value).toBe('a');
    expect(first?.key).toBe('k');
    expect(first?.headers).toEqual({
      trace: '1',
      'x-dead-letter-reason': 'terminated',
      'x-original-topic': 'orders',
      'x-original-offset': '7',
      'x-original-group': 'billing',
      'x-deliveries': '2',
      'x-dead-letter-detail': 'offset 7',
    });
  });

  it('on a real topic: routed deliveries are settled and never redelivered, the rest flows on', async () => {
    const bus = createBus();
    const orders = bus.topic<number>('orders', { groups: ['billing'] });
    const rejected = bus.topic<number>('orders.rejected', { groups: ['ops'] });
    const [bad, good] = partition(orders.messages({ group: 'billing' }).pipe(share()), (d: Delivery<number>) => d.value < 0);
    const billed: number[] = [];
    bad.pipe(deadLetterTo(rejected)).subscribe();
    good.subscribe((d) => {
      billed.push(d.value);
      d.ack();
    });
    await orders.publishBatch([10, -1, 20, -2]);
    expect(billed).toEqual([10, 20]);
    expect(orders.stats().groups.billing).toMatchObject({ acked: 4, committed: 4, pending: 0 });
    const ops = rejected.consumer({ group: 'ops' });
    const dead = [ops.tryRecv(), ops.tryRecv()];
    expect(dead.map((d) => [d?.value, d?.headers['x-original-offset']])).toEqual([
      [-1, '1'],
      [-2, '3'],
    ]);
  });

  it('waits for room in a full dead-letter topic before acking; unsubscribing returns what was not published', async () => {
    const bus = createBus();
    const src = bus.topic<number>('src', { groups: ['g'] });
    const dlq = bus.topic<number>('dlq', { capacity: 1, groups: ['ops'] });
    await src.publishBatch([1, 2, 3]);
    const offsets: number[] = [];
    const sub = src
      .messages({ group: 'g' })
      .pipe(deadLetterTo(dlq))
      .subscribe((o) => offsets.push(o));
    expect(offsets).toEqual([0]);
    expect(src.stats().groups.g).toMatchObject({ acked: 1, pending: 2 });
    dlq.consumer({ group: 'ops' }).tryRecv()?.ack();
    await settle();
    expect(offsets).toEqual([0, 1]);
    expect(src.stats().groups.g).toMatchObject({ acked: 2, pending: 1 });
    sub.unsubscribe();
    await settle(); // the abandoned publish rejects on a later microtask: its delivery is nacked then
    const again = src.consumer({ group: 'g' }).tryRecv();
    expect([again?.value, again?.deliveryCount]).toEqual([3, 2]);
  });
});
