/**
 * Instructions per message, counted by valgrind's callgrind: a measure that does not move with
 * the machine's load. On a shared machine the timed cases' medians move with its slow and quiet
 * spells, so a change of a few percent needs many alternating processes to show in
 * `npm run bench`; here the same code gives nearly the same count every run.
 *
 *   node --conditions=ringbus-source --import tsx bench/instructions.ts --filter channel [--filter floor: async]
 *        [--n 1000000] [--warmup 5] [--warmup-n 200000] [--jobs 2] [--root DIR] [--profile]
 *        [--node-arg=<flag>]...
 *
 * Each selected throughput case is bundled (bench/ir-child.ts with the core from `--root`'s
 * src/, default this checkout) and run twice under `valgrind --tool=callgrind` with
 * `node --single-threaded --hash-seed=1` (no concurrent compiler or GC threads: the JIT makes the same
 * choices every run; a fixed hash seed: start-up costs the same every run): both runs do the same warm-up trials, one then runs a trial of `n`.
 * The difference of the two totals divided by `n` is what one message costs, start-up,
 * loading, compiling and warm-up cancelled out. `--profile` also writes each run's callgrind
 * file and V8's perf map (JIT code names) next to the bundle, for `callgrind_annotate`.
 *
 * An instruction count is not a time (a cache miss or a mispredicted branch costs more than
 * an add), so a result is confirmed in `npm run bench`; a change that removes instructions from
 * the hot path shows here in one run. Only its end-to-end test on a tiny N runs in
 * `npm run test:deep`: valgrind runs a case many times slower than node does.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { allCases } from './cases/index.js';

interface Options {
  filters: string[];
  n: number;
  warmup: number;
  warmupN: number;
  jobs: number;
  root: string;
  profile: boolean;
  /** Extra node flags for both runs (an experiment: `--node-arg=--max-inlined-bytecode-size-cumulative=4000`). */
  nodeArgs: string[];
}

const HERE = fileURLToPath(new URL('.', import.meta.url));
const OWN_ROOT = resolve(HERE, '..');

/** Resolves every relative import of this checkout's src/ to the same file under `root`. */
function coreFrom(root: string): Plugin {
  const own = join(OWN_ROOT, 'src') + sep;
  return {
    name: 'core-from-root',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, (args) => {
        const abs = resolve(dirname(args.importer), args.path);
        if (!abs.startsWith(own)) return undefined;
        const twin = join(root, 'src', abs.slice(own.length)).replace(/\.js$/, '.ts');
        if (!existsSync(twin)) throw new Error(`${twin} does not exist (imported as ${args.path} by ${args.importer})`);
        return { path: twin };
      });
    },
  };
}

function parse(argv: string[]): Options {
  const o: Options = { filters: [], n: 1_000_000, warmup: 5, warmupN: 200_000, jobs: 2, root: OWN_ROOT, profile: false, nodeArgs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const int = (min: number): number => {
      const v = Number(next());
      if (!Number.isInteger(v) || v < min) throw new Error(`${a} must be an integer ≥ ${min}`);
      return v;
    };
    if (a === '--filter') o.filters.push(next().toLowerCase());
    else if (a === '--n') o.n = int(1);
    else if (a === '--warmup') o.warmup = int(0);
    else if (a === '--warmup-n') o.warmupN = int(1);
    else if (a === '--jobs') o.jobs = int(1);
    else if (a === '--root') o.root = resolve(next());
    else if (a === '--profile') o.profile = true;
    else if (a.startsWith('--node-arg=')) o.nodeArgs.push(a.slice('--node-arg='.length));
    else throw new Error(`unknown argument ${a}`);
  }
  if (o.filters.length === 0) throw new Error('name the cases with --filter <substring> (each run takes about a minute under valgrind)');
  return o;
}

/** Bundles the child with the core of `root`: one file, so no loader runs under valgrind. */
async function bundle(root: string, dir: string): Promise<string> {
  const outfile = join(dir, 'ir-child.mjs');
  await build({
    entryPoints: [join(HERE, 'ir-child.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['ringbus-source'],
    outfile,
    logLevel: 'error',
    // CommonJS peers (mqemitter) call require() inside an ES module bundle
    banner: { js: "import { createRequire as __rbRequire } from 'node:module'; const require = __rbRequire(import.meta.url);" },
    external: ['lmdb'],
    // an A/B: this checkout's cases on the core (every import of src/) of another checkout
    plugins: root === OWN_ROOT ? [] : [coreFrom(root)],
  });
  return outfile;
}

/** One callgrind run: the instruction total of the whole process. */
function count(file: string, name: string, n: number, o: Options, dir: string, tag: string): Promise<number> {
  const out = o.profile ? join(dir, `${tag}.${n}.callgrind`) : '/dev/null';
  // a fixed hash seed: with a random one V8 searches primes for it at start-up
  // (HashSeed::InitializeRoots), a cost that differs by millions of instructions between two
  // processes and would not cancel out of the difference of the two runs
  const node = ['--single-threaded', '--hash-seed=1', ...o.nodeArgs, ...(o.profile ? ['--perf-basic-prof'] : []), file, name, String(n), String(o.warmup), String(o.warmupN)];
  return new Promise((ok, fail) => {
    const p = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath, ...node], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) => {
      const m = /Collected : ([\d,]+)/.exec(err);
      if (code !== 0 || m === null) {
        fail(new Error(`${name} (n = ${n}) failed under valgrind (exit ${code}):\n${err.split('\n').filter((l) => !l.startsWith('==')).join('\n').trim()}`));
        return;
      }
      if (o.profile) {
        // V8 writes its map of generated code as /tmp/perf-<pid>.map (the pid valgrind reports)
        const map = `/tmp/perf-${/==(\d+)==/.exec(err)?.[1]}.map`;
        if (existsSync(map)) renameSync(map, join(dir, `${tag}.${n}.map`));
      }
      ok(Number(m[1].replace(/,/g, '')));
    });
  });
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  if (spawnSync('valgrind', ['--version']).status !== 0) throw new Error('valgrind is not installed (Debian: apt-get install valgrind)');
  const cases = allCases.filter((c) => c.kind !== 'memory' && o.filters.some((f) => c.name.toLowerCase().includes(f) || c.group.toLowerCase().includes(f)));
  if (cases.length === 0) throw new Error(`no throughput case matches ${o.filters.join(', ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'ringbus-ir-'));
  const file = await bundle(o.root, dir);
  console.log(`core: ${o.root}/src · n = ${o.n} after ${o.warmup} warm-up trials of ${o.warmupN}${o.profile ? ` · files in ${dir}` : ''}`);
  const jobs: (() => Promise<void>)[] = [];
  const results = new Map<string, string>();
  cases.forEach((c, k) => {
    const tag = `case${k}`;
    jobs.push(async () => {
      try {
        const [base, full] = await Promise.all([count(file, c.name, 0, o, dir, tag), count(file, c.name, o.n, o, dir, tag)]);
        results.set(c.name, `${((full - base) / o.n).toFixed(1).padStart(9)} Ir/msg  ${c.name}${o.profile ? `  (${tag}.*)` : ''}`);
      } catch (e) {
        results.set(c.name, `   FAILED           ${c.name}: ${(e as Error).message}`);
      }
      console.log(results.get(c.name));
    });
  });
  // each job runs two valgrinds at once: `--jobs` of them in all
  const lanes = Math.max(1, Math.floor(o.jobs / 2));
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < jobs.length) await jobs[next++]();
    }),
  );
  if (!o.profile) rmSync(dir, { recursive: true, force: true }); // with --profile its files are the point
  if ([...results.values()].some((r) => r.includes('FAILED'))) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
