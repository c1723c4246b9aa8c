/**
 * Type-level check, no runtime code: the real core (src/index.ts) satisfies the slice of the
 * DESIGN.md §3 API that bench/lib/ringbus.ts declares and the ringbus cases use. If the core's
 * signatures drift from what the cases call, `npm run typecheck` fails here.
 */
import type * as Core from '../../src/index.js';
import type { RingbusModule } from './ringbus.js';

export type CoreSatisfiesBench = typeof Core extends RingbusModule ? true : false;
export const coreSatisfiesBench: CoreSatisfiesBench = true;
