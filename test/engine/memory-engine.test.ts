import { expect, it } from 'vitest';
import { ConfigError, createBus, memoryEngine } from '../../src/index.js';

it('createBus({ engine: memoryEngine() }) is the default memory bus: same-turn visibility, ready() at once', async () => {
  const bus = createBus({ engine: memoryEngine() });
  await expect(bus.ready()).resolves.toBeUndefined();
  const t = bus.topic<number>('t', { groups: ['g'] });
  const c = t.consumer({ group: 'g' });
  expect(t.tryPublish(1)).toBe(true); // the memory engine knows its room in this thread
  expect(c.tryRecv()?.value).toBe(1);
  await createBus().ready();
  await bus.close();
});

it('an engine that is not one is a ConfigError naming `engine`', () => {
  expect(() => createBus({ engine: 42 as never })).toThrow(ConfigError);
  expect(() => createBus({ engine: { name: 'x' } as never })).toThrow(/`engine` must be an Engine/);
});

it("memoryEngine()'s openTopic is not for use on its own (it is not behind the seam yet)", async () => {
  await expect(memoryEngine().openTopic('t')).rejects.toBeInstanceOf(ConfigError);
});
