/** Every case, by area. ringbus cases need the core (`src/index.ts`); peers need nothing but devDependencies. */
import type { Case } from '../lib/harness.js';
import { codecCases } from './codec.js';
import { floorCases } from './floors.js';
import { natsCases } from './nats.js';
import { otelCases } from './otel.js';
import { peerCases } from './peers.js';
import { ringbusCases } from './ringbus.js';
import { storageCases } from './storage.js';
import { threadCases } from './threads.js';

export { codecCases, floorCases, natsCases, otelCases, peerCases, ringbusCases, storageCases, threadCases };

export const allCases: Case[] = [...peerCases, ...floorCases, ...ringbusCases, ...otelCases, ...codecCases, ...storageCases, ...threadCases, ...natsCases];

/**
 * Cases that import the ringbus core (the storage group's raw and lmdb loops import its record
 * framing; every cross-thread case's worker is one bundle with the port engine in it; the NATS
 * engine's ringbus cases).
 */
export const needsCore = new Set([...ringbusCases, ...otelCases, ...codecCases, ...storageCases, ...threadCases, ...natsCases.filter((c) => c.name.startsWith('ringbus'))].map((c) => c.name));

const names = new Set<string>();
for (const c of allCases) {
  if (names.has(c.name)) throw new Error(`duplicate bench case name: ${c.name}`);
  names.add(c.name);
}
