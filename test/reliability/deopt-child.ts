/**
 * Child of jit.test.ts (run with --expose-gc --trace-deopt): for-await loops over
 * `topic.consume()` on a fresh topic each round, a full GC between rounds — the shape of a
 * program that starts consumers from time to time, and of every benchmark repetition. Prints
 * what V8 traces; the test reads which of ringbus's functions were thrown away and why.
 */
import { createBus } from '../../src/index.js';

const rounds = Number(process.argv[2] ?? 6);
const n = Number(process.argv[3] ?? 200_000);

async function round(): Promise<number> {
  const t = createBus().topic<{ id: number }>('t', { capacity: 1024, overflow: 'block', groups: ['g'] });
  const producing = (async () => {
    for (let i = 0; i < n; i++) {
      const m = { id: i };
      if (!t.tryPublish(m)) await t.publish(m);
    }
    await t.close();
  })();
  let sum = 0;
  for await (const d of t.consume({ group: 'g', prefetch: 1024 })) {
    sum += d.value.id;
    d.ack();
  }
  await producing;
  return sum;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
for (let r = 0; r < rounds; r++) {
  const sum = await round();
  if (sum !== (n * (n - 1)) / 2) throw new Error(`round ${r}: lost messages (sum ${sum})`);
  process.stdout.write(`@@ROUND ${r}\n`);
  gc();
}
