/** The memory engine behind the seam with file storage: what a resolved publish promised survives a restart. */
import { afterAll, expect, it } from 'vitest';
import { createBus, memoryEngine } from '../../src/index.js';
import { fileStorage } from '../../src/node/index.js';
import { cleanTempDirs, tempDir } from './helpers.js';

afterAll(() => cleanTempDirs());

it('memoryEngine({ storage: fileStorage(dir) }): messages and the group position survive closing and reopening', async () => {
  const dir = tempDir('ringbus-memseam-');
  const first = createBus({ engine: memoryEngine({ storage: fileStorage(dir) }) });
  const t = first.topic<string>('orders', { groups: ['billing'] });
  await t.publishBatch(['a', 'b', 'c']);
  const c = t.consumer({ group: 'billing' });
  (await c.recv())?.ack();
  await first.close(); // the engine closes with its last bus: its storage is flushed and released

  const second = createBus({ engine: memoryEngine({ storage: fileStorage(dir) }) });
  const again = second.topic<string>('orders').consumer({ group: 'billing' });
  const rest = [(await again.recv())?.value, (await again.recv())?.value];
  expect(rest).toEqual(['b', 'c']);
  expect(second.topic('orders').stats().groups.billing).toMatchObject({ committed: 1 });
  await second.close();
});
