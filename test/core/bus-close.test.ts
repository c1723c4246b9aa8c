import { asyncScheduler } from 'rxjs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type Bus, ClosedError, ConfigError, type Consumer, createBus, type TopicStats } from '../../src/index.js';
import { isPending, settle, virtualTime } from '../helpers.js';

describe('bus.close()', () => {
  it('closes every topic: publishing fails with ClosedError, consumers drain then complete', async () => {
    const bus = createBus();
    const a = bus.topic<number>('a', { groups: ['g'] });
    const b = bus.topic<number>('b');
    await a.publish(1);
    const c = a.consumer({ group: 'g' });
    await bus.close();
    expect([a.closed, b.closed]).toEqual([true, true]);
    await expect(a.publish(2)).rejects.toBeInstanceOf(ClosedError);
    await expect(b.publish(2)).rejects.toBeInstanceOf(ClosedError);
    const d = await c.recv();
    expect(d?.value).toBe(1); // what was retained still drains
    d?.ack();
    expect(await c.recv()).toBeUndefined();
  });

  it('completes every stats$ and stops its timer; a stats$ subscribed after close completes at once', async () => {
    const vt = virtualTime();
    const bus = createBus({ scheduler: vt.scheduler });
    bus.topic('a');
    const seen: number[] = [];
    let completed = false;
    bus.stats$(100).subscribe({ next: (s) => seen.push(s.timestamp), complete: () => (completed = true) });
    vt.advance(250);
    expect(seen.length).toBe(2);
    await bus.close();
    expect(completed).toBe(true);
    vt.advance(1000);
    expect(seen.length).toBe(2); // no tick after close
    let late = false;
    bus.stats$(100).subscribe({ complete: () => (late = true) });
    expect(late).toBe(true);
  });

  it('refuses new topics with ClosedError; existing ones are still returned, closed', async () => {
    const bus = createBus();
    const a = bus.topic('a');
    await bus.close();
    expect(bus.closed).toBe(true);
    expect(() => bus.topic('u')).toThrow(ClosedError);
    expect(() => bus.topic('u')).toThrow(/bus is closed/);
    expect(bus.has('u')).toBe(false);
    expect(bus.topic('a')).toBe(a);
    expect(bus.topic('a').closed).toBe(true);
  });

  it('returns a promise that resolves once done; calling it again returns the same promise', async () => {
    const bus = createBus();
    bus.topic('a');
    const p = bus.close();
    expect(p).toBeInstanceOf(Promise);
    expect(bus.close()).toBe(p);
    await expect(p).resolves.toBeUndefined();
  });

  it('dead letters produced after close are counted as dropped, not sent to a new topic', async () => {
    const bus = createBus();
    const t = bus.topic<number>('t', { groups: ['g'], deadLetter: 'dlq' });
    await t.publish(1);
    const d = t.consumer({ group: 'g' }).tryRecv();
    await bus.close();
    d?.term('bad');
    await settle();
    expect(bus.has('dlq')).toBe(false);
    expect(t.stats().deadLetterDropped).toBe(1);
  });
});

describe('a topic asked again with other options', () => {
  it('the ConfigError shows both values of `groups`, and says what groups do', () => {
    const bus = createBus();
    bus.topic('orders', { groups: ['billing'] });
    let error: unknown;
    try {
      bus.topic('orders', { groups: ['billing', 'audit'] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('`["billing"]` (array) there, `["billing","audit"]` (array) asked');
    expect(message).not.toContain('[array]');
    expect(message).toMatch(/`publish` waits until that group has a member/);
  });

  it('other values are shown too: an object by its contents, a class instance by its name', () => {
    const bus = createBus();
    bus.topic('t', { capacity: 8 });
    expect(() => bus.topic('t', { capacity: 16 })).toThrow('`8` (number) there, `16` (number) asked');
    expect(() => bus.topic('x', { capacity: { n: 1 } as never })).toThrow('got `{"n":1}` (object)');
    expect(() => bus.topic('x', { groups: 'g' as never })).toThrow('got `"g"` (string)');
    bus.topic('s', { scheduler: virtualTime().scheduler });
    expect(() => bus.topic('s', { scheduler: asyncScheduler })).toThrow('`[VirtualTimeScheduler]` (object) there, `[AsyncScheduler]` (object) asked');
  });
});

describe('a publisher blocked behind a group with no member is visible', () => {
  it('stats().waitingPublishers counts publishes waiting for room, and drops to 0 once a member settles', async () => {
    const t = createBus().topic<number>('t', { capacity: 2, groups: ['billing'] });
    await t.publish(1);
    await t.publish(2);
    const third = t.publish(3);
    const batch = t.publishBatch([4, 5]);
    expect(await isPending(third)).toBe(true);
    expect(t.stats()).toMatchObject({ size: 2, waitingPublishers: 2, groups: { billing: { members: 0 } } });
    const c = t.consumer({ group: 'billing' });
    for (let i = 0; i < 5; i++) (await c.recv())?.ack();
    expect(await third).toBe(2);
    expect(await batch).toEqual([3, 4]);
    expect(t.stats().waitingPublishers).toBe(0);
  });
});

describe('topic expired vs agedOut', () => {
  it('a message every group acked that then ages out counts in expired and agedOut; the groups count nothing', () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<number>('t', { groups: ['g'], ttlMs: 100 });
    t.tryPublish(1);
    t.tryPublish(2);
    const c = t.consumer({ group: 'g' });
    c.tryRecv()?.ack();
    c.tryRecv()?.ack();
    vt.advance(200);
    const s = t.stats();
    expect({ expired: s.expired, agedOut: s.agedOut, group: s.groups.g.expired }).toEqual({ expired: 2, agedOut: 2, group: 0 });
  });

  it('a message a group had not settled counts in expired (and that group expired), not in agedOut', () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<number>('t', { groups: ['a', 'b'], ttlMs: 100 });
    t.tryPublish(1);
    t.tryPublish(2);
    const a = t.consumer({ group: 'a' });
    a.tryRecv()?.ack();
    a.tryRecv()?.ack(); // b never reads
    vt.advance(200);
    const s = t.stats();
    expect({ expired: s.expired, agedOut: s.agedOut, a: s.groups.a.expired, b: s.groups.b.expired }).toEqual({ expired: 2, agedOut: 0, a: 0, b: 2 });
  });

  it('a topic with no group: every expired message had only been kept for replay', () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<number>('t', { ttlMs: 100 });
    t.tryPublish(1);
    vt.advance(200);
    expect(t.stats()).toMatchObject({ expired: 1, agedOut: 1 });
  });
});

describe('types of what this changed', () => {
  it('TopicStats has agedOut and waitingPublishers; Bus has closed; commit and seek return boolean', () => {
    expectTypeOf<TopicStats['agedOut']>().toEqualTypeOf<number>();
    expectTypeOf<TopicStats['waitingPublishers']>().toEqualTypeOf<number>();
    expectTypeOf<Bus['closed']>().toEqualTypeOf<boolean>();
    expectTypeOf<Consumer<number>['commit']>().returns.toEqualTypeOf<boolean>();
    expectTypeOf<Consumer<number>['seek']>().returns.toEqualTypeOf<boolean>();
  });
});

describe('values in error messages', () => {
  it('a value whose getters throw is still described', () => {
    const hostile = new Proxy({}, { ownKeys: () => { throw new Error('no'); } });
    expect(() => createBus().topic('x', { capacity: hostile as never })).toThrow('got `[object]` (object)');
  });
});
