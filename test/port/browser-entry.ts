// Bundled for the browser platform and run in a context with only web globals (MessageChannel included).
import { createBus, portEngine, serveBus } from '../../src/index.js';

export async function run(): Promise<string[]> {
  const served = createBus();
  const { port1, port2 } = new MessageChannel();
  serveBus(served, port1);
  const bus = createBus({ engine: portEngine(port2) });
  await bus.ready();
  const t = bus.topic<{ n: number }>('t', { groups: ['g'] });
  await t.publishBatch([{ n: 1 }, { n: 2 }]);
  const c = t.consumer({ group: 'g' });
  const got: number[] = [];
  for (let i = 0; i < 2; i++) {
    const d = await c.recv();
    got.push(d!.value.n);
    d!.ack();
  }
  c.close();
  await bus.close();
  await served.close();
  return [`got ${got.join(',')}`, `acked ${served.topic('t').stats().groups.g!.acked}`];
}
