import { map, take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/index.js';
import { values } from '../../src/operators/index.js';
import { fake, testScheduler } from './fake.js';

describe('values', () => {
  it('maps deliveries to values and acks each once the synchronous downstream returns', () => {
    const [a, b] = [fake('x'), fake('y')];
    const acksSeenDownstream: number[] = [];
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-|', { a, b });
      const out = source.pipe(
        values(),
        map((v) => {
          acksSeenDownstream.push(a.calls.length + b.calls.length);
          return v;
        }),
      );
      expectObservable(out).toBe('-x-y-|', { x: 'x', y: 'y' });
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
    expect(acksSeenDownstream).toEqual([0, 1]); // not settled before the downstream ran
    expect([a.calls, b.calls]).toEqual([['ack'], ['ack']]);
  });

  it('nacks the value whose downstream threw, and unsubscribes the source', () => {
    const a = fake('x');
    const error = new Error('downstream');
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b|', { a, b: fake('y') });
      const out = source.pipe(
        values(),
        map(() => {
          throw error;
        }),
      );
      expectObservable(out).toBe('-#', undefined, error);
      expectSubscriptions(source.subscriptions).toBe('^!');
    });
    expect(a.calls).toEqual(['nack']);
  });

  it('on a real topic: a throwing downstream returns the message to the group', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    await t.publishBatch([1, 2, 3]);
    const seen: number[] = [];
    t.messages({ group: 'g' })
      .pipe(
        values(),
        map((n) => {
          seen.push(n);
          if (n === 2) throw new Error('no');
          return n;
        }),
      )
      .subscribe({ error: () => undefined });
    expect(seen).toEqual([1, 2]);
    expect(t.stats().groups.g).toMatchObject({ acked: 1, committed: 1, members: 0 });
    const again = t.consumer({ group: 'g' }).tryRecv();
    expect([again?.value, again?.deliveryCount]).toEqual([2, 2]);
  });

  it('on a real topic: under take(n), the value that ended the subscription is returned, as topic.values() does', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    await t.publishBatch([1, 2, 3, 4]);
    const got: number[] = [];
    t.messages({ group: 'g' }).pipe(values(), take(2)).subscribe((n) => got.push(n));
    expect(got).toEqual([1, 2]);
    expect(t.stats().groups.g).toMatchObject({ acked: 1, committed: 1, pending: 1, next: 2, members: 0 });
    const again = t.consumer({ group: 'g' }).tryRecv();
    expect([again?.value, again?.deliveryCount]).toEqual([2, 2]);
  });
});
