import type { SchedulerLike } from 'rxjs';
import type { Engine } from '../../../engine.js';
import type { Storage } from '../../../storage.js';
import { BusImpl } from '../bus.js';
import { openDurable } from '../../durable/open.js';
import * as v from '../../validate.js';
import { BusEngine } from './backend.js';

/** Options of {@link memoryEngine}: what the default bus takes as bus options. */
export interface MemoryEngineOptions {
  /** Runs the engine's timers (ack timeouts, nack delays, TTL): an RxJS `VirtualTimeScheduler` steps them in tests. Default: `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** Keeps every topic across restarts (e.g. `fileStorage(dir)` from `ringbus/node`). Default: none. */
  readonly storage?: Storage;
}

const MEMORY_LACKS = {
  scheduler: 'its timers run on the scheduler given to memoryEngine({ scheduler })',
  storage: 'its topics are kept by the storage given to memoryEngine({ storage })',
  codec: 'values cross the engine seam as given; a codec is an option of the default bus, createBus()',
  compression: 'compression belongs to a codec, an option of the default bus, createBus()',
  returnOnGc: 'a delivery handed through the engine seam is a copy; its ack timeout returns it',
};

/**
 * The memory engine over the engine seam: topics in this thread's memory, in a bus of the
 * engine's own (optionally durable with a `storage`). `createBus({ engine: memoryEngine() })` runs
 * every face over the seam, as on any engine; `openTopic` works on its own too.
 *
 * `createBus()` without an engine is the same memory engine, built directly: its faces use the
 * engine's fast paths (a publish visible to `tryRecv` in the same turn, `tryPublish` answering at
 * once, `values()` settling without allocating), which no face over the seam depends on. Options
 * that cannot cross the seam (`codec`, `compression`, `returnOnGc`) are refused with a
 * `ConfigError` naming the engine and the option; `scheduler` and `storage` are given here.
 *
 * @example
 * ```ts
 * const engine = memoryEngine({ storage: fileStorage('./data') });
 * const bus = createBus({ engine });
 * ```
 */
export function memoryEngine(options?: MemoryEngineOptions): Engine {
  const o = v.options<MemoryEngineOptions>('memory engine options', options, ['scheduler', 'storage']);
  return new BusEngine('memory', { lacks: MEMORY_LACKS }, new BusImpl(o, openDurable), true);
}
