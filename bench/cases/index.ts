/** Every case, by area. ringbus cases need the core (`src/index.ts`); peers need nothing but devDependencies. */
import type { Case } from '../lib/harness.js';
import { browserCases } from './browser.js';
import { codecCases } from './codec.js';
import { floorCases } from './floors.js';
import { natsCases } from './nats.js';
import { orderCases } from './order.js';
import { otelCases } from './otel.js';
import { peerCases } from './peers.js';
import { redisCases } from './redis.js';
import { ringbusCases } from './ringbus.js';
import { storageCases } from './storage.js';
import { threadCases } from './threads.js';

export { browserCases, codecCases, floorCases, natsCases, orderCases, otelCases, peerCases, redisCases, ringbusCases, storageCases, threadCases };

export const allCases: Case[] = [...peerCases, ...floorCases, ...ringbusCases, ...orderCases, ...otelCases, ...codecCases, ...storageCases, ...threadCases, ...natsCases, ...redisCases, ...browserCases];

/**
 * Cases that import the ringbus core (the storage group's raw and lmdb loops import its record
 * framing; every cross-thread case's worker is one bundle with the port engine in it; the remote
 * engines' ringbus cases; the browser cases' page bundles it).
 */
export const needsCore = new Set(
  [...ringbusCases, ...orderCases, ...otelCases, ...codecCases, ...storageCases, ...threadCases, ...browserCases, ...[...natsCases, ...redisCases].filter((c) => c.name.startsWith('ringbus'))].map((c) => c.name),
);

const names = new Set<string>();
for (const c of allCases) {
  if (names.has(c.name)) throw new Error(`duplicate bench case name: ${c.name}`);
  names.add(c.name);
}
