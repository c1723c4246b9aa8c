// Bundled for the browser platform and run in a context with only web globals.
import { createBus } from '../../src/index.js';
import { gzip, msgpack } from '../../src/codec/index.js';
import { handle } from '../../src/operators/index.js';

export async function run(): Promise<string[]> {
  const log: string[] = [];
  const bus = createBus();
  const t = bus.topic<{ n: number }>('t', { groups: ['g'], codec: msgpack, compression: gzip });
  const seen: number[] = [];
  const sub = t
    .messages({ group: 'g' })
    .pipe(handle(async (v) => seen.push(v.n)))
    .subscribe();
  await t.publishBatch([{ n: 1 }, { n: 2 }, { n: 3 }]);
  await new Promise((r) => setTimeout(r, 10));
  sub.unsubscribe();
  log.push(`handled ${seen.join(',')}`);
  const plain = bus.topic<string>('p');
  const reader = plain.readable().getReader();
  const read = reader.read();
  plain.tryPublish('hello');
  log.push(`read ${(await read).value?.value}`);
  await reader.cancel();
  log.push(`acked ${t.stats().groups.g.acked}`);
  return log;
}
