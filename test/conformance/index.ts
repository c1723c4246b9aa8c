import { createBus } from '../../src/index.js';
import { describeInProcessConformance, type MakeBus } from './in-process/index.js';
import { type ConformanceTarget, describeNeutralConformance, realClock, virtualClock } from './neutral/index.js';

export type { MakeBus } from './in-process/index.js';
export { describeInProcessConformance } from './in-process/index.js';
export type { Capability, Clock, ConformanceTarget, Kit } from './neutral/index.js';
export { describeNeutralConformance, realClock, skipReason, virtualClock } from './neutral/index.js';

/**
 * A target for an in-process engine that takes the `scheduler` option: virtual time, with short
 * quiet periods (nothing is in flight between turns).
 */
export function inProcessTarget(name: string, makeBus: MakeBus, cleanup?: () => void | Promise<void>): ConformanceTarget {
  return { name, clock: () => virtualClock(), makeBus, quietMs: 10, patienceMs: 5_000, cleanup };
}

/**
 * The same engine on wall time, one unit being `scale` ms: proof that the neutral part holds no
 * hidden reliance on virtual time, as a remote engine's run needs.
 */
export function realTimeTarget(name: string, makeBus: MakeBus, scale = 40): ConformanceTarget {
  return { name, clock: () => realClock(scale), makeBus, quietMs: 20, patienceMs: 5_000 };
}

/** Both parts of the suite for an in-process engine (memory, with or without a storage). */
export function describeTopicConformance(name: string, makeBus: MakeBus = (o) => createBus(o)): void {
  describeNeutralConformance(inProcessTarget(name, makeBus));
  describeInProcessConformance(name, makeBus);
}
