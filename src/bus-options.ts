/**
 * The options of `createBus`, in a file of their own because they name the engine seam
 * (`engine.ts`), which is built on the public types (`types.ts`).
 *
 * @module
 */
import type { SchedulerLike } from 'rxjs';
import type { Engine } from './engine.js';
import type { Storage } from './storage.js';

/** Options of {@link createBus}. */
export interface BusOptions {
  /** Default scheduler of every topic. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** Default storage of every topic (see {@link TopicOptions.storage}). Default: none (memory only). */
  readonly storage?: Storage;
  /**
   * What holds the topics, every face running over the engine seam: `memoryEngine()` or
   * `portEngine(port)` (a bus served over a MessagePort). Default: none, the memory engine built
   * directly with its in-process fast paths. An engine refuses, with a `ConfigError` naming it and
   * the option, what it lacks (see docs/engines.md).
   */
  readonly engine?: Engine;
}
