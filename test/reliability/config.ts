/**
 * Run counts of the reliability suite. The default slice is bounded (seconds); `RINGBUS_DEEP=1`
 * raises every count for a deep run; `RINGBUS_SEED=<n>` replays one fast-check seed.
 */
export const DEEP = process.env.RINGBUS_DEEP === '1';

function num(name: string, fallback: number): number {
  const v = process.env[name];
  return v === undefined || v === '' ? fallback : Number(v);
}

/** Model sequences per overflow strategy. */
export const MODEL_RUNS = num('RINGBUS_MODEL_RUNS', DEEP ? 25_000 : 1_000);
/** Random programs against the push faces (a fifth as many no-stall plans, at least 100). */
export const FACES_RUNS = num('RINGBUS_FACES_RUNS', DEEP ? 25_000 : 1_000);
/** Scheduled interleavings (fc.scheduler) per channel property. */
export const SCHEDULER_RUNS = num('RINGBUS_SCHEDULER_RUNS', DEEP ? 50_000 : 1_000);
/** Random inputs per fuzzed entry point. */
export const FUZZ_RUNS = num('RINGBUS_FUZZ_RUNS', DEEP ? 50_000 : 1_000);
/** Sets of hostile topic and group names run through the Prometheus exposition (test/otel/prometheus.test.ts). */
export const EXPOSITION_RUNS = num('RINGBUS_EXPOSITION_RUNS', DEEP ? 50_000 : 200);
/** Programs of the reentrancy fuzzer (calls into the engine from inside its callbacks). */
export const REENTRANCY_RUNS = num('RINGBUS_REENTRANCY_RUNS', DEEP ? 50_000 : 2_000);
/** Pipes per forwarding property (each a pipe through a destination closed mid-way). */
export const FORWARD_RUNS = num('RINGBUS_FORWARD_RUNS', DEEP ? 2_000 : 100);
/** Values per dead-letter property (test/core/dead-letter-payload.test.ts). */
export const DEAD_LETTER_RUNS = num('RINGBUS_DEAD_LETTER_RUNS', DEEP ? 20_000 : 500);
/** SIGKILL rounds per scenario of the durable crash suite (test/node/crash.test.ts). */
export const CRASH_RUNS = num('RINGBUS_CRASH_RUNS', DEEP ? 50 : 4);
/** SIGKILL rounds per copy path of the crash suite (writable, dead letters, forwarding operators). */
export const CRASH_PATH_RUNS = num('RINGBUS_CRASH_PATH_RUNS', DEEP ? 30 : 2);
/** Renderer kills of the IndexedDB crash test (test/browser/indexeddb.test.ts). */
export const BROWSER_CRASH_RUNS = num('RINGBUS_BROWSER_CRASH_RUNS', DEEP ? 50 : 10);
/** Iterations of each leak loop. */
export const LEAK_N = num('RINGBUS_LEAK_N', DEEP ? 1_000_000 : 100_000);

export const SEED = process.env.RINGBUS_SEED === undefined ? undefined : Number(process.env.RINGBUS_SEED);

/** Per-file test timeout: generous in deep mode. */
export const TIMEOUT = DEEP ? 3_600_000 : 60_000;

/** Figures a test reports, printed once per file. */
export function report(line: string): void {
  // eslint-disable-next-line no-console
  console.log(`[reliability] ${line}`);
}
/** Random programs of competing members over the MessagePort engine (test/port/competing.property.test.ts). */
export const PORT_RUNS = num('RINGBUS_PORT_RUNS', DEEP ? 5_000 : 100);
