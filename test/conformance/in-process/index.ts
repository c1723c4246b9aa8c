import { describe } from 'vitest';
import type { Bus, BusOptions } from '../../../src/index.js';
import { closingInProcess } from './closing.js';
import { deliveryInProcess } from './delivery.js';
import { facesInProcess } from './faces.js';
import { retentionInProcess } from './retention.js';

/** Makes a fresh bus of the engine under test (each test gets its own). */
export type MakeBus = (options?: BusOptions) => Bus;

/**
 * The in-process part of the conformance suite, for the memory engine (with or without storage):
 * what only an engine in the same thread can promise — a publish visible to `tryRecv` and to push
 * subscribers before the call returns, reentrant publishes and settles from inside callbacks, and
 * timer bounds stepped exactly on virtual time (`scheduler`). Every other rule of DESIGN.md §2 is
 * in the neutral part (../neutral), which every engine runs.
 *
 * @example
 * ```ts
 * describeInProcessConformance('memory', (o) => createBus(o));
 * ```
 */
export function describeInProcessConformance(name: string, makeBus: MakeBus): void {
  describe(`in-process conformance: ${name}`, () => {
    retentionInProcess(makeBus);
    deliveryInProcess(makeBus);
    closingInProcess(makeBus);
    facesInProcess(makeBus);
  });
}
