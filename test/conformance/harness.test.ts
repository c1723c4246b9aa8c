import { afterEach, describe, expect, it } from 'vitest';
import { type Bus, createBus } from '../../src/index.js';
import { type ConformanceTarget, realClock, skipReason, virtualClock } from './index.js';
import { makeKit } from './neutral/index.js';

// The neutral suite's own helpers: a helper that passes when it should fail would hide an engine's bug.

const buses: Bus[] = [];
afterEach(async () => {
  for (const b of buses.splice(0)) await b.close();
});

const target = (clock = virtualClock()): ConformanceTarget => ({ name: 'probe', clock: () => clock, makeBus: (o) => createBus(o), quietMs: 10, patienceMs: 200 });

describe('conformance harness', () => {
  it('a test is skipped only for a capability the target declares it lacks, and the reason names both', () => {
    const t = { name: 'redis', lacks: { 'overflow:grow': 'a stream has no ring to grow' } };
    expect(skipReason(t, ['overflow:grow'])).toBe('redis lacks overflow:grow: a stream has no ring to grow');
    expect(skipReason(t, ['ttl:per-message', 'overflow:grow'])).toBe('redis lacks overflow:grow: a stream has no ring to grow');
    expect(skipReason(t, ['ttl:per-message'])).toBeUndefined();
    expect(skipReason({ name: 'memory' }, ['overflow:grow'])).toBeUndefined();
  });

  it('recv gives up after its bound, takes nothing, and the message still goes to the next receiver', async () => {
    const k = makeKit(target(), virtualClock(), buses);
    const t = k.bus().topic<number>('t', { groups: ['g'] });
    const c = t.consumer({ group: 'g' });
    expect(await k.recv(c, 10)).toBeUndefined();
    await t.publish(1);
    const d = await k.take(c);
    expect([d.value, d.deliveryCount]).toEqual([1, 1]);
  });

  it('take, expectNone and eventually fail, naming what they waited for', async () => {
    const k = makeKit(target(), virtualClock(), buses);
    const t = k.bus().topic<number>('t', { groups: ['g'] });
    const c = t.consumer({ group: 'g' });
    await expect(k.take(c, 'the first job')).rejects.toThrow('probe: no delivery within 200 ms while waiting for the first job');
    await t.publish(7);
    await expect(k.expectNone(c)).rejects.toThrow('probe: expected nothing, got offset 0 (7)');
    let calls = 0;
    await expect(
      k.eventually(
        () => {
          calls++;
          throw new Error('never true');
        },
        { timeoutMs: 30 },
      ),
    ).rejects.toThrow('never true');
    expect(calls).toBeGreaterThan(1);
  });

  it('pending tells a promise still waiting from one settled (fulfilled or rejected)', async () => {
    const k = makeKit(target(), virtualClock(), buses);
    expect(await k.pending(new Promise(() => {}))).toBe(true);
    expect(await k.pending(Promise.resolve(1))).toBe(false);
    expect(await k.pending(Promise.reject(new Error('x')))).toBe(false);
  });

  it('a virtual clock runs the bus timers due within an advance, and none later', async () => {
    const clock = virtualClock(10);
    const k = makeKit(target(clock), clock, buses);
    const t = k.bus().topic<number>('t', { groups: ['g'], ttlMs: k.ms(5) });
    await t.publish(1);
    await clock.advance(4);
    expect(t.stats().expired).toBe(0);
    await clock.advance(2);
    expect(t.stats().expired).toBe(1);
  });

  it('a real clock advances wall time by units of its scale', async () => {
    const clock = realClock(15);
    expect(clock.ms(4)).toBe(60);
    const start = performance.now();
    await clock.advance(2);
    expect(performance.now() - start).toBeGreaterThanOrEqual(29);
    expect(clock.busOptions).toEqual({});
  });
});
