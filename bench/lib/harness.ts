/**
 * Shared types and helpers for the benchmark cases.
 *
 * A case is prepared outside the timed region (`prepare(n)` builds the topic, subject,
 * stream, subscriptions ...) and its `run()` is the timed region: the producer allocates a
 * fresh `{ id: i, v: 'x' }` per message, the consumer feeds every message it receives into
 * a {@link Sink}, and `run()` resolves once the consumer side has finished.
 */

/** The message every case moves. */
export interface Msg {
  id: number;
  v: string;
}

/** What a trial reports back; the child process checks it after every repetition. */
export interface Result {
  /** Messages (deliveries, for fan-out cases) the consumer side received. */
  count: number;
  /** The id of the last message received (per subscriber: the smallest of them). */
  lastId: number;
  /** Messages that arrived out of order (id !== previous id + 1). Must be 0. */
  disorder: number;
  /** Extra figures, e.g. heap bytes for memory cases. */
  metrics?: Record<string, number>;
}

/** One prepared run of a case. */
export interface Trial {
  /** The timed region. */
  run(): Result | Promise<Result>;
  /** Untimed clean-up. */
  dispose?(): void | Promise<void>;
}

export type CaseKind = 'throughput' | 'memory';

export interface Case {
  /** Unique; used by `--filter` and by the targets. */
  name: string;
  /** Area, e.g. 'ring', 'emitter', 'rxjs', 'effect', 'streams', 'async', 'codec', 'ringbus', 'memory'. */
  group: string;
  /** One line saying what exactly is measured. */
  note: string;
  /** Deliveries per published message (fan-out cases); msgs/s are then deliveries/s. */
  fanout?: number;
  /** 'memory' cases run once, without warm-up, and report `metrics`. */
  kind?: CaseKind;
  /** An optional peer package the case needs; without it the case is skipped, saying so. */
  requires?: string;
  /**
   * A network service the case needs (Redis): when it does not answer, the case is skipped,
   * saying so, except under `CI=true`, where it fails.
   */
  service?: { readonly name: string; readonly url: string; readonly defaultPort: number };
  /** Why the case cannot run here (e.g. a browser missing), or undefined: the run skips it, saying why. */
  unavailable?(): string | undefined;
  /** Untimed clean-up after the last trial of the process (e.g. closing a browser). */
  close?(): Promise<void>;
  /** N for this case given the suite's N (lets memory cases pick their own sizes). */
  size?(base: number, quick: boolean): number;
  prepare(n: number): Trial | Promise<Trial>;
}

/** A failed check of a trial's result (not a crash): reported by its message alone. */
export class CheckError extends Error {}

/** Throws a {@link CheckError} unless the trial delivered all `n` messages (times the fan-out), in order, ending with id `n - 1`. */
export function verify(c: Case, n: number, r: Result): void {
  const want = n * (c.fanout ?? 1);
  const problems: string[] = [];
  if (r.count !== want) problems.push(`received ${r.count} of ${want}`);
  if (r.lastId !== n - 1) problems.push(`last id ${r.lastId}, expected ${n - 1}`);
  if (r.disorder !== 0) problems.push(`${r.disorder} out of order`);
  if (problems.length > 0) throw new CheckError(`${problems.join('; ')}`);
}

/** Counts what a consumer receives and checks order. Cheap: one compare per message. */
export class Sink {
  count = 0;
  lastId = -1;
  disorder = 0;

  take(m: Msg): void {
    if (m.id !== this.lastId + 1) this.disorder++;
    this.lastId = m.id;
    this.count++;
  }

  takeId(id: number): void {
    if (id !== this.lastId + 1) this.disorder++;
    this.lastId = id;
    this.count++;
  }

  result(metrics?: Record<string, number>): Result {
    return metrics === undefined
      ? { count: this.count, lastId: this.lastId, disorder: this.disorder }
      : { count: this.count, lastId: this.lastId, disorder: this.disorder, metrics };
  }
}

/**
 * One Sink that lives as long as the process. Every trial makes a new Sink and the harness runs
 * a full GC between trials; without an instance alive at that moment V8 drops the Sink's hidden
 * class, and with it the optimized code of every case's consumer loop that inlined `take`
 * (`--trace-deopt`: "weak objects", once per repetition in every case, peers included).
 */
export const SINK_ANCHOR = new Sink();

/** Sums several sinks (fan-out); lastId is the smallest, so one lagging subscriber fails the check. */
export function merge(sinks: readonly Sink[], metrics?: Record<string, number>): Result {
  let count = 0;
  let disorder = 0;
  let lastId = Infinity;
  for (const s of sinks) {
    count += s.count;
    disorder += s.disorder;
    if (s.lastId < lastId) lastId = s.lastId;
  }
  const r: Result = { count, lastId: sinks.length === 0 ? -1 : lastId, disorder };
  if (metrics !== undefined) r.metrics = metrics;
  return r;
}

/** A promise with its resolvers, for push-style consumers that signal completion. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Heap in use after two full collections (needs `--expose-gc`). */
export function settledHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed;
}

/** The bounded capacity used by every bounded case (topics, queues, stream high-water marks). */
export const CAPACITY = 1024;

/** The batch size of the batch cases (`publishBatch`/`recvBatch`, `offerAll`, `publishAll`). */
export const BATCH = 100;

/** The batch starting at message `from` of `n`: fresh `{ id, v: 'x' }` messages, allocated now (inside the timed region). */
export function freshBatch(from: number, n: number): Msg[] {
  const end = Math.min(n, from + BATCH);
  const batch: Msg[] = [];
  for (let i = from; i < end; i++) batch.push({ id: i, v: 'x' });
  return batch;
}
