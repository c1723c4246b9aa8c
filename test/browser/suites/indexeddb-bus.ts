// Buses on indexedDbStorage for the neutral suite in a page: a database each, deleted by `cleanup`.
import { createBus } from '../../../src/index.js';
import { indexedDbStorage } from '../../../src/browser/index.js';

const made: string[] = [];

export const makeBus = (options?: Parameters<typeof createBus>[0]) => {
  const name = `neutral-${made.length}-${Math.random().toString(36).slice(2)}`;
  made.push(name);
  return createBus({ ...options, storage: indexedDbStorage(name) });
};

export const cleanup = (): void => {
  // a bus a test left open keeps its connection: the deletion then waits for the page to close
  for (const name of made.splice(0)) indexedDB.deleteDatabase(name);
};
