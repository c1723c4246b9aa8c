/**
 * Loads the ringbus core for the ringbus cases, and the slice of the DESIGN.md §3 API they use.
 *
 * The core is imported through a computed specifier, so `bench/` type-checks (and the peers
 * run) before `src/index.ts` exists. The only failure that is tolerated is the entry module
 * itself being absent; any other error (a missing export, a broken internal import, an
 * exception at load time) propagates and fails the run.
 */
import type { SchedulerLike } from 'rxjs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * `src/index.ts` by default (tsx maps `.js` to `.ts`). `RINGBUS_BENCH_ENTRY=dist/index.js`
 * (a path relative to the working directory) benchmarks another build, e.g. the compiled one.
 */
export const RINGBUS_ENTRY: URL = process.env.RINGBUS_BENCH_ENTRY
  ? pathToFileURL(resolve(process.env.RINGBUS_BENCH_ENTRY))
  : new URL('../../src/index.js', import.meta.url);

export interface Delivery<T> {
  readonly value: T;
  readonly offset: number;
  ack(): void;
  nack(opts?: { delayMs?: number }): void;
}

export interface Unsubscribable {
  unsubscribe(): void;
}

/** Structural slice of an RxJS Observable. */
export interface ObservableLike<T> {
  subscribe(observer: {
    next?: (value: T) => void;
    error?: (err: unknown) => void;
    complete?: () => void;
  }): Unsubscribable;
}

export interface ConsumerOptions {
  group?: string;
  from?: 'earliest' | 'latest' | 'committed' | { offset: number };
  prefetch?: number;
  ack?: 'auto' | 'manual';
}

export interface Consumer<T> extends AsyncIterable<Delivery<T>> {
  recv(): Promise<Delivery<T> | undefined>;
  tryRecv(): Delivery<T> | undefined;
  recvBatch(max: number): Promise<Delivery<T>[] | undefined>;
  commit(offset: number): void;
  close(): unknown;
}

export interface TopicOptions {
  capacity?: number;
  overflow?: 'block' | 'drop-oldest' | 'reject' | 'grow';
  groups?: string[];
  ackTimeoutMs?: number;
  priorities?: number;
  ordering?: 'none' | 'key';
}

export interface PublishOptions {
  priority?: number;
  delayMs?: number;
  key?: string;
}

export interface Topic<T> {
  publish(value: T, options?: PublishOptions): Promise<number>;
  tryPublish(value: T, options?: PublishOptions): boolean;
  publishBatch(values: T[]): Promise<number[]>;
  consumer(opts?: ConsumerOptions): Consumer<T>;
  values(opts?: ConsumerOptions): ObservableLike<T>;
  messages(opts?: ConsumerOptions): ObservableLike<Delivery<T>>;
  readable(opts?: ConsumerOptions): ReadableStream<Delivery<T>>;
  consume(opts?: ConsumerOptions): AsyncIterable<Delivery<T>>;
  close(): unknown;
}

export interface Bus {
  topic<T>(name: string, opts?: TopicOptions): Topic<T>;
}

export interface Sender<T> {
  send(value: T): Promise<unknown>;
  trySend(value: T): boolean;
  close(): unknown;
}

export interface Receiver<T> {
  recv(): Promise<Delivery<T> | undefined>;
  tryRecv(): Delivery<T> | undefined;
}

export interface RingbusModule {
  createBus(options?: { scheduler?: SchedulerLike }): Bus;
  channel<T>(capacity: number): [Sender<T>, Receiver<T>];
}

function isEntryMissing(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown };
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || typeof err.message !== 'string') return false;
  const m = /Cannot find (?:module|package) '([^']+)'/.exec(err.message);
  if (!m) return false;
  const missing = m[1].startsWith('file:') ? fileURLToPath(m[1]) : m[1];
  const entry = fileURLToPath(RINGBUS_ENTRY).replace(/\.(js|ts|mjs|mts)$/, '');
  return missing.replace(/\.(js|ts|mjs|mts)$/, '') === entry;
}

let cached: Promise<RingbusModule | null> | undefined;

/**
 * Hands in the core instead of importing it by URL: a bundled child (bench/instructions.ts)
 * imports it statically, since a bundler cannot follow the URL import below.
 */
export function provideRingbus(mod: RingbusModule): void {
  cached = Promise.resolve(mod);
}

/** The core, or `null` when `src/index.ts` does not exist yet. Other import errors throw. */
export function loadRingbus(): Promise<RingbusModule | null> {
  cached ??= import(RINGBUS_ENTRY.href).then(
    (mod: unknown) => {
      const m = mod as Partial<RingbusModule>;
      if (typeof m.createBus !== 'function' || typeof m.channel !== 'function') {
        throw new Error(`${fileURLToPath(RINGBUS_ENTRY)} does not export createBus() and channel() (DESIGN.md §3)`);
      }
      return m as RingbusModule;
    },
    (e: unknown) => {
      if (isEntryMissing(e)) return null;
      throw e;
    },
  );
  return cached;
}

/** The core, or an error saying it is missing (used inside cases, where it must exist). */
export async function requireRingbus(): Promise<RingbusModule> {
  const mod = await loadRingbus();
  if (mod === null) throw new Error(`ringbus core not built: ${fileURLToPath(RINGBUS_ENTRY)} is missing`);
  return mod;
}
