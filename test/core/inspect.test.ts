import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/index.js';

/** What `console.log` prints, without colours, on one line. */
const show = (value: unknown): string => inspect(value, { colors: false, breakLength: Infinity });

describe('console.log of the public objects', () => {
  it('a delivery shows its topic, group, offset, delivery count, settled flag and value', async () => {
    const bus = createBus();
    const t = bus.topic<{ id: number }>('orders', { groups: ['billing'] });
    await t.publish({ id: 7 });
    const c = t.consumer({ group: 'billing' });
    const d = c.tryRecv()!;
    expect(show(d)).toBe("Delivery { topic: 'orders', group: 'billing', offset: 0, deliveryCount: 1, settled: false, value: { id: 7 } }");
    d.ack();
    expect(show(d)).toContain('settled: true');
    await bus.close();
  });

  it('a nested delivery is cut at the depth limit like any object', async () => {
    const bus = createBus();
    const t = bus.topic<{ a: { b: { c: number } } }>('deep', { groups: ['g'] });
    await t.publish({ a: { b: { c: 1 } } });
    const d = t.consumer({ group: 'g' }).tryRecv()!;
    expect(show(d)).toContain('value: { a: { b: [Object] } }');
    expect(show({ x: { y: { z: d } } })).toBe('{ x: { y: { z: [Delivery] } } }');
    await bus.close();
  });

  it('a consumer, a topic and a bus print a line each, not the engine behind them', async () => {
    const bus = createBus();
    const t = bus.topic<number>('jobs', { capacity: 8, groups: ['workers'] });
    await t.publishBatch([1, 2, 3]);
    const c = t.consumer({ group: 'workers', prefetch: 4 });
    c.tryRecv();
    expect(show(c)).toBe("Consumer { topic: 'jobs', group: 'workers', prefetch: 4, unsettled: 1, closed: false }");
    expect(show(t)).toBe("Topic { name: 'jobs', capacity: 8, size: 3, head: 0, tail: 3, groups: [ 'workers' ], closed: false }");
    expect(show(bus)).toBe("Bus { topics: [ 'jobs' ] }");
    await c.close();
    expect(show(c)).toContain('closed: true');
    await bus.close();
  });

  it('console.log of a delivery is a few lines, however much engine state is behind it', async () => {
    const bus = createBus();
    const t = bus.topic<string>('big', { groups: ['a', 'b', 'c'], ackTimeoutMs: 60_000 });
    for (let i = 0; i < 100; i++) await t.publish(`m${i}`);
    const d = t.consumer({ group: 'b' }).tryRecv()!;
    const printed = inspect(d); // console.log's settings
    expect(printed.split('\n').length).toBeLessThanOrEqual(8);
    expect(printed).not.toMatch(/Group|TopicImpl|ring|timer/);
    await bus.close();
  });
});
