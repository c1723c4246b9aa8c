/** Every case, by area. ringbus cases need the core (`src/index.ts`); peers need nothing but devDependencies. */
import type { Case } from '../lib/harness.js';
import { codecCases } from './codec.js';
import { floorCases } from './floors.js';
import { orderCases } from './order.js';
import { otelCases } from './otel.js';
import { peerCases } from './peers.js';
import { ringbusCases } from './ringbus.js';
import { storageCases } from './storage.js';

export { codecCases, floorCases, orderCases, otelCases, peerCases, ringbusCases, storageCases };

export const allCases: Case[] = [...peerCases, ...floorCases, ...ringbusCases, ...orderCases, ...otelCases, ...codecCases, ...storageCases];

/** Cases that import the ringbus core (the storage group's raw and lmdb loops import its record framing). */
export const needsCore = new Set([...ringbusCases, ...orderCases, ...otelCases, ...codecCases, ...storageCases].map((c) => c.name));

const names = new Set<string>();
for (const c of allCases) {
  if (names.has(c.name)) throw new Error(`duplicate bench case name: ${c.name}`);
  names.add(c.name);
}
