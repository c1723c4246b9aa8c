import { describe, it } from 'vitest';
import type { Bus } from '../../../src/index.js';
import { closingNeutral } from './closing.js';
import { deliveryNeutral } from './delivery.js';
import { facesNeutral } from './faces.js';
import { orderNeutral } from './order.js';
import { positionsNeutral } from './positions.js';
import { retentionNeutral } from './retention.js';
import { type Capability, type ConformanceTarget, type Kit, makeKit } from './target.js';

export type { Capability, Clock, ConformanceTarget, Kit } from './target.js';
export { makeKit, realClock, virtualClock } from './target.js';

/** Declares one neutral test; `needs` lists the capabilities it cannot run without. */
export type Test = (name: string, fn: (k: Kit) => Promise<void>, needs?: readonly Capability[]) => void;

/** Why `target` cannot run a test that needs `needs`: the first capability it lacks, with its reason. */
export function skipReason(target: Pick<ConformanceTarget, 'name' | 'lacks'>, needs: readonly Capability[]): string | undefined {
  const missing = needs.find((c) => target.lacks?.[c] !== undefined);
  return missing === undefined ? undefined : `${target.name} lacks ${missing}: ${target.lacks?.[missing]}`;
}

/**
 * The engine-neutral part of the conformance suite: DESIGN.md §2 through the public API only,
 * every publish awaited, every wait bounded, time in clock units. An engine that passes it
 * gives the normative semantics whatever its transport; a test needing a capability the
 * target lacks is skipped with the reason in its name and on the console.
 *
 * @example
 * ```ts
 * describeNeutralConformance({ name: 'memory', clock: () => virtualClock(), makeBus: (o) => createBus(o), quietMs: 20, patienceMs: 2000 });
 * ```
 */
export function describeNeutralConformance(target: ConformanceTarget): void {
  const test: Test = (name, fn, needs = []) => {
    const reason = skipReason(target, needs);
    if (reason !== undefined) {
      console.info(`conformance: skipped "${name}" (${reason})`);
      it.skip(`${name} [skipped: ${reason}]`, () => {});
      return;
    }
    it(name, async () => {
      const buses: Bus[] = [];
      try {
        await fn(makeKit(target, target.clock(), buses));
      } finally {
        for (const b of buses) await b.close();
        await target.cleanup?.();
      }
    });
  };
  describe(`neutral conformance: ${target.name}`, () => {
    retentionNeutral(test);
    deliveryNeutral(test);
    positionsNeutral(test);
    closingNeutral(test);
    facesNeutral(test);
    orderNeutral(test);
  });
}
