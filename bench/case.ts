/**
 * Runs one case in this (fresh) process and prints one `@@RESULT {json}` line on stdout.
 *
 *   node --expose-gc --conditions=ringbus-source --import tsx bench/case.ts \
 *        <name> <n> <reps> <warmupMs> <timeoutMs> <quick|full> [minTimedMs]
 *
 * Warm-up: whole trials, repeated until `warmupMs` has passed (skipped when 0). Then at least
 * `reps` timed trials — more for fast cases, so the timed trials add up to about `minTimedMs`
 * (estimated from the warm-up, at most 100 trials); short trials on a small VM are noisy. Each trial: prepare (untimed), GC (untimed), run (timed), verify (count,
 * last id, order), dispose (untimed); the trial stays reachable until the next one has run
 * (see `previous`). Any failed check exits non-zero.
 */
import { performance } from 'node:perf_hooks';
import { allCases } from './cases/index.js';
import { CheckError, verify, type Case, type Result, type Trial } from './lib/harness.js';

export interface CaseReport {
  name: string;
  group: string;
  kind: 'throughput' | 'memory';
  note: string;
  ok: boolean;
  error?: string;
  n: number;
  fanout: number;
  reps: number;
  /** How many child processes' repetitions `rates` pools (absent: 1). */
  procs?: number;
  /** With several processes: each one's own median, in the order they ran (round 1 first). */
  procMedians?: number[];
  /** With several processes: how many of `rates` each one ran, in the same order (`rates` is their concatenation). */
  procReps?: number[];
  warmupMs: number;
  warmupTrials: number;
  /** Deliveries per second, one per timed repetition. */
  rates: number[];
  timesMs: number[];
  median: number;
  min: number;
  max: number;
  /** process.resourceUsage().maxRSS of this child, in bytes. */
  peakRssBytes: number;
  /** maxRSS before the case's first prepare (node + tsx + harness), in bytes. */
  baseRssBytes: number;
  metrics?: Record<string, number>;
}

const MARK = '@@RESULT ';

function emit(r: CaseReport): void {
  process.stdout.write(MARK + JSON.stringify(r) + '\n');
}

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}


async function withTimeout<T>(p: Promise<T> | T, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckError(`no completion within ${ms} ms (lost messages or a hang)`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The last trial that ran, kept reachable until the next one has run. The GC before each trial
 * would otherwise collect the previous trial's closures (its `run`, and the closures `run` made),
 * and V8 holds optimized code only weakly from the feedback a function's closures share: every
 * trial's `run` then ran unoptimized until compiled again, on the other core, while it was being
 * timed, costing each case in proportion to what its own closures inline. A long-lived consumer
 * loop in an application keeps its code too.
 */
let previous: Trial | undefined;

async function trial(c: Case, n: number, timeoutMs: number): Promise<{ ms: number; result: Result }> {
  const t = await c.prepare(n);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
  const t0 = performance.now();
  const result = await withTimeout(t.run(), timeoutMs, c.name);
  const ms = performance.now() - t0;
  verify(c, n, result);
  if (t.dispose) await t.dispose();
  previous = t;
  return { ms, result };
}

async function main(): Promise<void> {
  const [name, nArg, repsArg, warmArg, timeoutArg, quickArg, minTimedArg] = process.argv.slice(2);
  const c = allCases.find((x) => x.name === name);
  if (!c) throw new Error(`unknown case ${JSON.stringify(name)}`);
  const quick = quickArg === 'quick';
  const base = Number(nArg);
  const n = c.size ? c.size(base, quick) : base;
  const kind = c.kind ?? 'throughput';
  let reps = kind === 'memory' ? 1 : Math.max(1, Number(repsArg));
  const minTimedMs = kind === 'memory' ? 0 : Math.max(0, Number(minTimedArg) || 0);
  const warmupMs = kind === 'memory' ? 0 : Math.max(0, Number(warmArg));
  const timeoutMs = Number(timeoutArg) || 120_000;
  const fanout = c.fanout ?? 1;

  const report: CaseReport = {
    name: c.name, group: c.group, kind, note: c.note, ok: false, n, fanout, reps, warmupMs,
    warmupTrials: 0, rates: [], timesMs: [], median: NaN, min: NaN, max: NaN, peakRssBytes: 0,
    baseRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  try {
    if (warmupMs > 0) {
      const start = performance.now();
      let lastMs = Infinity;
      do {
        lastMs = (await trial(c, n, timeoutMs)).ms;
        report.warmupTrials++;
      } while (performance.now() - start < warmupMs);
      if (minTimedMs > 0 && lastMs > 0) reps = Math.min(100, Math.max(reps, Math.ceil(minTimedMs / lastMs)));
      report.reps = reps;
    }
    for (let r = 0; r < reps; r++) {
      const { ms, result } = await trial(c, n, timeoutMs);
      report.timesMs.push(ms);
      report.rates.push((n * fanout) / (ms / 1000));
      if (result.metrics) report.metrics = result.metrics;
    }
    report.median = median(report.rates);
    report.min = Math.min(...report.rates);
    report.max = Math.max(...report.rates);
    report.ok = true;
  } catch (e) {
    report.error = e instanceof Error ? (e instanceof CheckError ? e.message : (e.stack ?? e.message)) : String(e);
  }
  try {
    await c.close?.();
  } catch (e) {
    report.ok = false;
    report.error ??= `close: ${e instanceof Error ? e.message : String(e)}`;
  }
  report.peakRssBytes = process.resourceUsage().maxRSS * 1024;
  emit(report);
  process.exit(report.ok ? 0 : 1);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(2);
});
