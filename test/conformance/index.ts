import { describe } from 'vitest';
import type { Bus, BusOptions } from '../../src/index.js';
import { closingSuite } from './closing.js';
import { deliverySuite } from './delivery.js';
import { facesSuite } from './faces.js';
import { positionsSuite } from './positions.js';
import { retentionSuite } from './retention.js';

/** Makes a fresh bus of the engine under test (each test gets its own). */
export type MakeBus = (options?: BusOptions) => Bus;

/**
 * The conformance suite every engine and storage runs (mqemitter's abstract tests): the
 * normative semantics of DESIGN.md §2, through the public API only.
 *
 * @example
 * ```ts
 * describeTopicConformance('memory', (o) => createBus(o));
 * ```
 */
export function describeTopicConformance(name: string, makeBus: MakeBus): void {
  describe(`topic conformance: ${name}`, () => {
    retentionSuite(makeBus);
    deliverySuite(makeBus);
    positionsSuite(makeBus);
    closingSuite(makeBus);
    facesSuite(makeBus);
  });
}
