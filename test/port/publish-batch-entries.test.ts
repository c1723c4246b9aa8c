import { describe, expect, it } from 'vitest';
import { ConfigError, createBus, portEngine, serveBus } from '../../src/index.js';

describe('publishBatch over the port engine', () => {
  it('entries carry their own key and headers; values take the batch options; a bad entry refuses the whole batch', async () => {
    const { port1, port2 } = new MessageChannel();
    const served = createBus();
    const stop = serveBus(served, port1);
    const bus = createBus({ engine: portEngine(port2) });
    try {
      const t = bus.topic<number>('t', { groups: ['g'] });
      expect(await t.publishBatch([{ value: 1, key: 'a', headers: { h: '1' } }, { value: 2 }], { entries: true, key: 'batch' })).toEqual([0, 1]);
      expect(await t.publishBatch([3, 4], { key: 'k' })).toEqual([2, 3]);
      await expect(t.publishBatch([{ value: 5 }, 6 as never], { entries: true })).rejects.toBeInstanceOf(ConfigError);
      const c = served.topic<number>('t').consumer({ group: 'g' });
      const got = [];
      for (let i = 0; i < 4; i++) {
        const d = await c.recv();
        got.push({ value: d?.value, key: d?.key, headers: d?.headers });
        d?.ack();
      }
      expect(got).toEqual([
        { value: 1, key: 'a', headers: { h: '1' } },
        { value: 2, key: 'batch', headers: {} },
        { value: 3, key: 'k', headers: {} },
        { value: 4, key: 'k', headers: {} },
      ]);
      expect(served.topic('t').stats().tail).toBe(4); // the refused batch appended nothing
    } finally {
      await bus.close();
      stop.close();
      await served.close();
    }
  });
});
