import { describe, expect, it } from 'vitest';
import { ConfigError, createBus, type Delivery } from '../../src/index.js';
import { expire } from '../../src/operators/index.js';
import { virtualTime } from '../helpers.js';
import { fake, testScheduler } from './fake.js';

describe('expire', () => {
  it('drops (acks) deliveries older than ms when they arrive, counts them, passes the rest', () => {
    const fresh = fake('fresh', { timestamp: 8 });
    const old = fake('old', { timestamp: 0 });
    const edge = fake('edge', { timestamp: 5 });
    const seen: Array<[unknown, number]> = [];
    const ts = testScheduler();
    const op = expire<string>(5, { scheduler: ts, onExpired: (d, age) => seen.push([d.value, age]) });
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('10ms a-b-c|', { a: fresh, b: old, c: edge });
      // a arrives at 10 (age 2), b at 12 (age 12), c at 14 (age 9): only a is fresh
      expectObservable(source.pipe(op)).toBe('10ms a----|', { a: fresh });
      expectSubscriptions(source.subscriptions).toBe('^ 14ms !');
    });
    expect([fresh.calls, old.calls, edge.calls]).toEqual([[], ['ack'], ['ack']]);
    expect(op.expired).toBe(2);
    expect(seen).toEqual([
      ['old', 12],
      ['edge', 9],
    ]);
  });

  it('keeps a delivery exactly ms old', () => {
    const d = fake('x', { timestamp: 0 });
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('5ms a|', { a: d }).pipe(expire(5, { scheduler: ts }))).toBe('5ms a|', { a: d });
    });
  });

  it('a throwing onExpired errors the stream and unsubscribes the source', () => {
    const error = new Error('metrics down');
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('3ms a-b|', { a: fake(1, { timestamp: 0 }), b: fake(2, { timestamp: 0 }) });
      const out = source.pipe(
        expire(1, {
          scheduler: ts,
          onExpired: () => {
            throw error;
          },
        }),
      );
      expectObservable(out).toBe('3ms #', undefined, error);
      expectSubscriptions(source.subscriptions).toBe('^ 2ms !');
    });
  });

  it('on a real topic on virtual time: messages that waited too long are acked unseen', async () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<string>('quotes', { groups: ['ui'] });
    t.tryPublish('old');
    vt.advance(1_000);
    t.tryPublish('new');
    const seen: Delivery<string>[] = [];
    const fresh = expire<string>(500, { scheduler: vt.scheduler });
    t.messages({ group: 'ui' })
      .pipe(fresh)
      .subscribe((d) => {
        seen.push(d);
        d.ack();
      });
    expect(seen.map((d) => d.value)).toEqual(['new']);
    expect(fresh.expired).toBe(1);
    expect(t.stats().groups.ui).toMatchObject({ acked: 2, committed: 2, pending: 0 });
  });

  it('validates its arguments', () => {
    expect(() => expire(-1)).toThrow(ConfigError);
    expect(() => expire(1, { scheduler: {} as never })).toThrow(/`scheduler` must be an RxJS SchedulerLike/);
    expect(() => expire(1, { onExpired: 3 as never })).toThrow(/`onExpired` must be a function/);
  });
});
