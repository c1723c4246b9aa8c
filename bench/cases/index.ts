/** Every case, by area. ringbus cases need the core (`src/index.ts`); peers need nothing but devDependencies. */
import type { Case } from '../lib/harness.js';
import { browserCases } from './browser.js';
import { codecCases } from './codec.js';
import { floorCases } from './floors.js';
import { otelCases } from './otel.js';
import { peerCases } from './peers.js';
import { ringbusCases } from './ringbus.js';
import { storageCases } from './storage.js';
import { threadCases } from './threads.js';

export { browserCases, codecCases, floorCases, otelCases, peerCases, ringbusCases, storageCases, threadCases };

export const allCases: Case[] = [...peerCases, ...floorCases, ...ringbusCases, ...otelCases, ...codecCases, ...storageCases, ...threadCases, ...browserCases];

/**
 * Cases that import the ringbus core (the storage group's raw and lmdb loops import its record
 * framing; every cross-thread case's worker is one bundle with the port engine in it; the
 * browser cases' page bundles it).
 */
export const needsCore = new Set([...ringbusCases, ...otelCases, ...codecCases, ...storageCases, ...threadCases, ...browserCases].map((c) => c.name));

const names = new Set<string>();
for (const c of allCases) {
  if (names.has(c.name)) throw new Error(`duplicate bench case name: ${c.name}`);
  names.add(c.name);
}
