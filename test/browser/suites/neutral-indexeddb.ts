// The engine-neutral conformance suite on the memory engine with indexedDbStorage, in a browser
// page: every bus gets a database of its own, deleted once the suite is done.
import { createBus } from '../../../src/index.js';
import { indexedDbStorage } from '../../../src/browser/index.js';
import { describeNeutralConformance, inProcessTarget } from '../../conformance/index.js';

const made: string[] = [];
const fresh = (): string => {
  const name = `neutral-${made.length}-${Math.random().toString(36).slice(2)}`;
  made.push(name);
  return name;
};

describeNeutralConformance(
  inProcessTarget('memory + indexedDbStorage in Chromium', (options) => createBus({ ...options, storage: indexedDbStorage(fresh()) }), () => {
    // a bus a test left open keeps its connection: the deletion then waits for the page to close
    for (const name of made.splice(0)) indexedDB.deleteDatabase(name);
  }),
);
