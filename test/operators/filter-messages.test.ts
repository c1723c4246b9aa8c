import { describe, expect, it } from 'vitest';
import { ConfigError, createBus } from '../../src/index.js';
import { filterMessages } from '../../src/operators/index.js';
import { fake, testScheduler } from './fake.js';

describe('filterMessages', () => {
  it('passes matching deliveries and acks the others', () => {
    const [a, b, c] = [fake(1), fake(2), fake(3)];
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', { a, b, c });
      expectObservable(source.pipe(filterMessages((n: number) => n % 2 === 1))).toBe('-a---c-|', { a, c });
      expectSubscriptions(source.subscriptions).toBe('^------!');
    });
    expect([a.calls, b.calls, c.calls]).toEqual([[], ['ack'], []]);
  });

  it('a throwing predicate errors the stream, unsubscribes the source, then nacks the delivery it was given', () => {
    const a = fake(1);
    const error = new Error('bad predicate');
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-|', { a, b: fake(2) });
      const out = source.pipe(
        filterMessages(() => {
          throw error;
        }),
      );
      expectObservable(out).toBe('-#', undefined, error);
      expectSubscriptions(source.subscriptions).toBe('^!');
    });
    expect(a.calls).toEqual(['nack']);
  });

  it('unsubscribing downstream unsubscribes the source', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', { a: fake(1), b: fake(2), c: fake(3) });
      expectObservable(source.pipe(filterMessages(() => true)), '^--!').toBe('-a-', { a: expect.anything() });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('narrows the type with a type guard', () => {
    type Ev = { type: 'a'; n: number } | { type: 'b' };
    const t = createBus().topic<Ev>('t');
    const out = t.messages().pipe(filterMessages((e): e is Extract<Ev, { type: 'a' }> => e.type === 'a'));
    out.subscribe((d) => expect(typeof d.value.n).toBe('number'));
  });

  it('on a real topic the dropped messages are settled: the group commits past them', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    await t.publishBatch([1, 2, 3, 4, 5, 6]);
    const seen: number[] = [];
    t.messages({ group: 'g', prefetch: 2 })
      .pipe(filterMessages((n: number) => n > 4))
      .subscribe((d) => {
        seen.push(d.value);
        d.ack();
      });
    expect(seen).toEqual([5, 6]);
    expect(t.stats().groups.g).toMatchObject({ acked: 6, committed: 6, pending: 0 });
  });

  it('rejects a predicate that is not a function', () => {
    expect(() => filterMessages(null as never)).toThrow(ConfigError);
  });
});
