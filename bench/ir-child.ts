/**
 * The child of bench/instructions.ts, bundled and run under callgrind:
 *
 *   node --single-threaded ir-child.mjs <case> <n> <warm-up trials> <warm-up n>
 *
 * Runs the case's whole trials (prepare, run, verify, dispose) a fixed number of times as
 * warm-up, then one trial of `n` (none when `n` is 0). Nothing is timed: the parent takes the
 * difference of the instruction counts of an `n` run and a `0` run, so everything but the last
 * trial (start-up, loading, compiling, the warm-up) cancels out.
 */
import * as core from '../src/index.js';
import { allCases } from './cases/index.js';
import { verify, type Trial } from './lib/harness.js';
import { provideRingbus, type RingbusModule } from './lib/ringbus.js';

provideRingbus(core as unknown as RingbusModule);

const [name, nArg, warmArg, warmNArg] = process.argv.slice(2);
const c = allCases.find((x) => x.name === name);
if (c === undefined) throw new Error(`no case named ${JSON.stringify(name)}`);
if (c.kind === 'memory') throw new Error(`${name} is a memory case: instructions are counted for throughput cases only`);

/** The last trial, reachable until the next has run, as in bench/case.ts (see `previous` there): a GC would otherwise take its closures' optimized code. */
let previous: Trial | undefined;

async function trial(n: number): Promise<void> {
  const t = await (c as NonNullable<typeof c>).prepare(n);
  try {
    verify(c as NonNullable<typeof c>, n, await t.run());
  } finally {
    await t.dispose?.();
  }
  previous = t;
}

for (let r = 0; r < Number(warmArg); r++) await trial(Number(warmNArg));
if (Number(nArg) > 0) await trial(Number(nArg));
