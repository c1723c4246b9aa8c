import { VirtualTimeScheduler } from 'rxjs';
import type { Bus, BusOptions, Delivery } from '../../../src/index.js';

/**
 * What an engine may lack. A neutral test that needs one is skipped on an engine that declares it
 * lacks it, and the skip names the capability and the engine's reason.
 *
 * - `overflow:drop-oldest`, `overflow:grow`: the two overflow policies a log-structured remote store
 *   may not give (`block` and `reject` every engine gives).
 * - `ttl:per-message`: a `ttlMs` on one publish (a topic-wide `ttlMs` every engine gives).
 * - `filter:counted`: what a consumer's `filter` rejects is counted in the group's `filtered` (not
 *   `acked`); an engine whose filter runs in the client's thread settles rejected messages as acks.
 *
 * Two more name what only the in-process part needs, and no neutral test asks for them:
 * - `same-turn`: a publish is visible to `tryRecv`, and a push subscriber is called, before the
 *   publishing call returns; reentrant publishes and settles from inside a callback.
 * - `virtual-time`: the engine's timers run on the `scheduler` option, so a test can step time exactly.
 */
export type Capability = 'overflow:drop-oldest' | 'overflow:grow' | 'ttl:per-message' | 'filter:counted' | 'same-turn' | 'virtual-time' | 'delayMs' | 'priorities' | 'ordering';

/**
 * The clock a target runs the neutral suite on. Tests speak of time in units: `ms(n)` is n units in
 * milliseconds (for `ackTimeoutMs`, `ttlMs`, `delayMs`), `advance(n)` lets n units pass. Every timed
 * assertion keeps at least one unit of margin on each side, so a real clock with a unit of a few
 * tens of milliseconds passes as surely as virtual time.
 */
export interface Clock {
  /** `virtual`: time moves only in `advance`; `real`: wall time, `advance` sleeps. */
  readonly kind: 'virtual' | 'real';
  /** Milliseconds in one unit. */
  readonly scale: number;
  /** n units in milliseconds. */
  ms(units: number): number;
  /** Lets n units pass (virtual: runs every timer due until then; real: sleeps). */
  advance(units: number): Promise<void>;
  /** Bus options the clock needs (virtual: its `scheduler`). */
  readonly busOptions: BusOptions;
}

/** Virtual time on an RxJS `VirtualTimeScheduler`, for an in-process engine that takes the `scheduler` option. */
export function virtualClock(scale = 10): Clock {
  const scheduler = new VirtualTimeScheduler();
  return {
    kind: 'virtual',
    scale,
    ms: (units) => units * scale,
    busOptions: { scheduler },
    async advance(units) {
      const target = scheduler.frame + units * scale;
      scheduler.maxFrames = target;
      scheduler.flush();
      scheduler.frame = target;
      await turn();
    },
  };
}

/** Wall time, one unit being `scale` milliseconds (use tens of ms for a remote engine). */
export function realClock(scale: number): Clock {
  return {
    kind: 'real',
    scale,
    ms: (units) => units * scale,
    busOptions: {},
    advance: (units) => sleep(units * scale),
  };
}

/** One engine (and storage) under the neutral suite. */
export interface ConformanceTarget {
  readonly name: string;
  /** A fresh clock for one test. */
  clock(): Clock;
  /** A fresh bus for one test; `options` already hold the clock's bus options. */
  makeBus(options: BusOptions): Bus;
  /** What the engine lacks, each with the reason printed when a test is skipped for it. */
  readonly lacks?: Partial<Record<Capability, string>>;
  /**
   * How long, in real milliseconds, the suite waits before it concludes that nothing more arrives
   * (`expectNone`, `expectPending`) and how long `eventually` polls before it fails.
   */
  readonly quietMs: number;
  readonly patienceMs: number;
  /**
   * Messages a volume test publishes, each publish awaited (default 1000). A remote target may
   * publish fewer in the default run and the full count under `RINGBUS_DEEP=1`: every message is
   * a round trip to its server.
   */
  readonly volume?: number;
  /** Called after each test, once every bus it made is closed (temporary directories, connections). */
  cleanup?(): void | Promise<void>;
}

/** A real-time sleep (never the bus's scheduler). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The next task: Node's `setImmediate` (after I/O callbacks), a zero timeout where there is none (browsers). */
const nextTask: (f: () => void) => void = typeof setImmediate === 'function' ? setImmediate : (f) => setTimeout(f, 0);

/** Lets queued promise callbacks and I/O callbacks run. */
export function turn(): Promise<void> {
  return new Promise((r) => nextTask(r));
}

/** The helpers one test gets: every wait is bounded in real time, whatever the clock. */
export interface Kit {
  readonly clock: Clock;
  /** Messages a volume test publishes: the target's `volume`. */
  readonly volume: number;
  /** A bus of the target on this test's clock; closed after the test. */
  bus(options?: BusOptions): Bus;
  /** n clock units in milliseconds. */
  ms(units: number): number;
  /** Waits for one delivery for at most `patienceMs` (real time): undefined if none came. */
  recv<T>(c: Receiver<T>, timeoutMs?: number): Promise<Delivery<T> | undefined>;
  /** Like `recv`, and fails naming what it waited for if nothing came. */
  take<T>(c: Receiver<T>, what?: string): Promise<Delivery<T>>;
  /** Takes n deliveries in order (acking each unless `ack` is false). */
  collect<T>(c: Receiver<T>, n: number, options?: { ack?: boolean }): Promise<Delivery<T>[]>;
  /** Asserts that nothing arrives within `quietMs`. */
  expectNone<T>(c: Receiver<T>): Promise<void>;
  /** Waits `quietMs` (real time): long enough for anything in flight to arrive. */
  quiet(): Promise<void>;
  /** Resolves true if `p` is still pending after `quietMs`. */
  pending(p: Promise<unknown>): Promise<boolean>;
  /** Runs `fn` until it stops throwing, for at most `timeoutMs` (default `patienceMs`). */
  eventually(fn: () => void | Promise<void>, options?: { timeoutMs?: number }): Promise<void>;
}

export interface Receiver<T> {
  recv(options?: { signal?: AbortSignal }): Promise<Delivery<T> | undefined>;
}

export function makeKit(target: ConformanceTarget, clock: Clock, buses: Bus[]): Kit {
  const recv = async <T>(c: Receiver<T>, timeoutMs = target.patienceMs): Promise<Delivery<T> | undefined> => {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error('recv bound')), timeoutMs);
    try {
      return await c.recv({ signal: ac.signal });
    } catch (e) {
      if (ac.signal.aborted && e === ac.signal.reason) return undefined;
      throw e;
    } finally {
      clearTimeout(timer);
    }
  };
  const kit: Kit = {
    clock,
    volume: target.volume ?? 1000,
    ms: (units) => clock.ms(units),
    bus(options = {}) {
      const b = target.makeBus({ ...clock.busOptions, ...options });
      buses.push(b);
      return b;
    },
    recv,
    async take(c, what = 'a delivery') {
      const d = await recv(c);
      if (d === undefined) throw new Error(`${target.name}: no delivery within ${target.patienceMs} ms while waiting for ${what}`);
      return d;
    },
    async collect(c, n, options = {}) {
      const out = [];
      for (let i = 0; i < n; i++) {
        const d = await kit.take(c, `delivery ${i + 1} of ${n}`);
        out.push(d);
        if (options.ack !== false) d.ack();
      }
      return out;
    },
    async expectNone(c) {
      const d = await recv(c, target.quietMs);
      if (d !== undefined) throw new Error(`${target.name}: expected nothing, got offset ${d.offset} (${String(d.value)})`);
    },
    quiet: () => sleep(target.quietMs),
    async pending(p) {
      let done = false;
      p.then(
        () => (done = true),
        () => (done = true),
      );
      await sleep(target.quietMs);
      return !done;
    },
    async eventually(fn, options = {}) {
      const deadline = Date.now() + (options.timeoutMs ?? target.patienceMs);
      for (;;) {
        if (clock.kind === 'virtual') await clock.advance(0);
        try {
          await fn();
          return;
        } catch (e) {
          if (Date.now() > deadline) throw e;
          await sleep(2);
        }
      }
    },
  };
  return kit;
}
