import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, createBus, type Delivery } from '../../src/index.js';
import { bufferMessages, type DeliveryBatch } from '../../src/operators/index.js';
import { virtualTime } from '../helpers.js';
import { fake, testScheduler } from './fake.js';

describe('bufferMessages', () => {
  it('emits a batch when count is reached or ms after its first delivery, whichever first; the rest on completion', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const d = (v: string) => fake(v);
      const source = cold('-abc-d 10ms e|', { a: d('a'), b: d('b'), c: d('c'), d: d('d'), e: d('e') });
      const out = source.pipe(
        bufferMessages(3, 5, { scheduler: ts }),
        map((b) => b.values.join('')),
      );
      // abc fills at frame 3; d opens a batch at 5, its timer closes it at 10; e is flushed by completion at 17
      expectObservable(out).toBe('---x------y------(z|)', { x: 'abc', y: 'd', z: 'e' });
      expectSubscriptions(source.subscriptions).toBe('^ 16ms !');
    });
  });

  it('emits no empty batch', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold<Delivery<string>>('30ms |').pipe(bufferMessages(3, 5, { scheduler: ts }))).toBe('30ms |');
    });
  });

  it('unsubscribing unsubscribes the source, stops the timer and nacks the open batch', () => {
    const a = fake('a');
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a----', { a });
      expectObservable(source.pipe(bufferMessages(3, 10, { scheduler: ts })), '^--!').toBe('----');
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
    expect(a.calls).toEqual(['nack']);
  });

  it('a source error errors the stream and nacks the open batch', () => {
    const a = fake('a');
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-#', { a });
      expectObservable(source.pipe(bufferMessages(3, 10, { scheduler: ts }))).toBe('---#');
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
    expect(a.calls).toEqual(['nack']);
  });

  it('a batch settles all its deliveries at once and reports how many it settled', () => {
    const ts = testScheduler();
    const batches: DeliveryBatch<string>[] = [];
    const ds = [fake('a'), fake('b'), fake('c')];
    ts.run(({ cold }) => {
      cold('abc|', { a: ds[0], b: ds[1], c: ds[2] })
        .pipe(bufferMessages(3, Infinity, { scheduler: ts }))
        .subscribe((b) => batches.push(b));
    });
    const [batch] = batches;
    expect(batch.size).toBe(3);
    expect(batch.values).toEqual(['a', 'b', 'c']);
    ds[1].ack();
    expect(batch.nackAll({ delayMs: 5 })).toBe(2);
    expect(batch.ackAll()).toBe(0);
    expect(ds.map((d) => d.calls)).toEqual([['nack:5', 'ack'], ['ack', 'nack:5', 'ack'], ['nack:5', 'ack']]);
  });

  it('on a real topic: batches by size, then by time on the topic scheduler; ackAll commits the group', () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<number>('rows', { groups: ['db'] });
    const batches: number[][] = [];
    t.messages({ group: 'db', prefetch: 10 })
      .pipe(bufferMessages(4, 50, { scheduler: vt.scheduler }))
      .subscribe((b) => {
        batches.push([...b.values]);
        b.ackAll();
      });
    for (let i = 0; i < 10; i++) t.tryPublish(i);
    expect(batches).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    vt.advance(49);
    expect(batches.length).toBe(2);
    vt.advance(1);
    expect(batches[2]).toEqual([8, 9]);
    expect(t.stats().groups.db).toMatchObject({ acked: 10, committed: 10, pending: 0 });
  });

  it('validates its arguments', () => {
    expect(() => bufferMessages(0, 10)).toThrow(ConfigError);
    expect(() => bufferMessages(10, 0)).toThrow(/`ms` must be a number of milliseconds > 0/);
    expect(() => bufferMessages(Infinity, Infinity)).toThrow(/cannot both be `Infinity`/);
  });
});
