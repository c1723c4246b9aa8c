/** Every case, by area. ringbus cases need the core (`src/index.ts`); peers need nothing but devDependencies. */
import type { Case } from '../lib/harness.js';
import { peerCases } from './peers.js';
import { ringbusCases } from './ringbus.js';

export { peerCases, ringbusCases };

export const allCases: Case[] = [...peerCases, ...ringbusCases];

/** Cases that import the ringbus core. */
export const needsCore = new Set(ringbusCases.map((c) => c.name));

const names = new Set<string>();
for (const c of allCases) {
  if (names.has(c.name)) throw new Error(`duplicate bench case name: ${c.name}`);
  names.add(c.name);
}
