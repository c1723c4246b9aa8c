import { lastValueFrom, of, Subject, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ClosedError, ConfigError, createBus, TopicFullError } from '../../src/index.js';
import { PublishOverflowError, publishTo } from '../../src/operators/index.js';
import { settle } from '../helpers.js';
import { testScheduler } from './fake.js';

describe('publishTo', () => {
  it('publishes each value and emits its offset, in order, synchronously while the topic has room', () => {
    const ts = testScheduler();
    const t = createBus({ scheduler: ts }).topic<string>('t');
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b--c|');
      expectObservable(source.pipe(publishTo(t))).toBe('-0-1--2|', { 0: 0, 1: 1, 2: 2 });
      expectSubscriptions(source.subscriptions).toBe('^------!');
    });
    const c = t.consumer({ from: 'earliest' });
    expect([c.tryRecv()?.value, c.tryRecv()?.value, c.tryRecv()?.value]).toEqual(['a', 'b', 'c']);
  });

  it('unsubscribing downstream unsubscribes the source', () => {
    const ts = testScheduler();
    const t = createBus({ scheduler: ts }).topic<string>('t');
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c|');
      expectObservable(source.pipe(publishTo(t)), '^--!').toBe('-0-', { 0: 0 });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('applies key, headers (static or from the value) and ttlMs', async () => {
    const t = createBus().topic<{ id: number }>('t', { groups: ['g'] });
    await lastValueFrom(of({ id: 1 }, { id: 2 }).pipe(publishTo(t, { key: (v) => `k${v.id}`, headers: { src: 'test' }, ttlMs: 60_000 })));
    const c = t.consumer({ group: 'g' });
    const [a, b] = [c.tryRecv(), c.tryRecv()];
    expect([a?.key, b?.key, a?.headers, b?.headers]).toEqual(['k1', 'k2', { src: 'test' }, { src: 'test' }]);
  });

  it("under overflow 'block' it waits for room, keeps order, and errors with PublishOverflowError past maxBuffered", async () => {
    const t = createBus().topic<number>('t', { capacity: 2, groups: ['g'] });
    const src = new Subject<number>();
    const offsets: number[] = [];
    let error: unknown;
    src.pipe(publishTo(t, { maxBuffered: 2 })).subscribe({ next: (o) => offsets.push(o), error: (e) => (error = e) });
    for (const n of [0, 1, 2, 3, 4]) src.next(n); // 0, 1 fit; 2 waits; 3, 4 are buffered
    expect(offsets).toEqual([0, 1]);
    const c = t.consumer({ group: 'g', prefetch: 10 });
    c.tryRecv()?.ack();
    c.tryRecv()?.ack();
    await settle();
    expect(offsets).toEqual([0, 1, 2, 3]); // room for two: 2 and 3, in order
    expect(error).toBeUndefined();
    src.next(5);
    src.next(6); // 4 waits, 5 and 6 buffered: the bound
    src.next(7);
    expect(error).toBeInstanceOf(PublishOverflowError);
    expect(error).toBeInstanceOf(TopicFullError);
    expect((error as PublishOverflowError).message).toMatch(/topic `t` is full \(capacity 2\) and more than 2 values are waiting/);
    expect(src.observed).toBe(false); // the source was unsubscribed
  });

  it('completes after the source completes and every waiting value is published', async () => {
    const t = createBus().topic<number>('t', { capacity: 2, groups: ['g'] });
    const done = lastValueFrom(of(0, 1, 2, 3).pipe(publishTo(t), toArray()));
    const c = t.consumer({ group: 'g' });
    for (let i = 0; i < 4; i++) (await c.recv())?.ack();
    expect(await done).toEqual([0, 1, 2, 3]);
  });

  it("under overflow 'reject' a full topic errors the stream with TopicFullError", async () => {
    const t = createBus().topic<number>('t', { capacity: 2, overflow: 'reject', groups: ['g'] });
    const offsets: number[] = [];
    const error = await new Promise((resolve) => of(0, 1, 2, 3).pipe(publishTo(t)).subscribe({ next: (o) => offsets.push(o), error: resolve }));
    expect(offsets).toEqual([0, 1]);
    expect(error).toBeInstanceOf(TopicFullError);
    expect(error).not.toBeInstanceOf(PublishOverflowError);
  });

  it('a closed topic errors the stream with ClosedError', async () => {
    const t = createBus().topic<number>('t');
    await t.close();
    let error: unknown;
    of(1).pipe(publishTo(t)).subscribe({ error: (e) => (error = e) });
    expect(error).toBeInstanceOf(ClosedError);
  });

  it('unsubscribing abandons the waiting publish: it never lands', async () => {
    const t = createBus().topic<number>('t', { capacity: 1, groups: ['g'] });
    const src = new Subject<number>();
    const sub = src.pipe(publishTo(t)).subscribe();
    src.next(0);
    src.next(1);
    sub.unsubscribe();
    t.consumer({ group: 'g' }).tryRecv()?.ack();
    await settle();
    expect(t.stats().tail).toBe(1);
  });

  it('validates its arguments', () => {
    const t = createBus().topic<number>('t');
    expect(() => publishTo({} as never)).toThrow(/`topic` must be a ringbus Topic/);
    expect(() => publishTo(t, { maxBuffered: -1 })).toThrow(ConfigError);
    expect(() => publishTo(t, { ttlMs: 0 })).toThrow(/`ttlMs`/);
    expect(() => publishTo(t, { keys: 'x' } as never)).toThrow(/`keys` is not an option/);
  });
});
