import { afterAll } from 'vitest';
import { createBus, type Storage } from '../../src/index.js';
import { fileStorage } from '../../src/node/index.js';
import { describeInProcessConformance, describeNeutralConformance, inProcessTarget } from '../conformance/index.js';
import { cleanTempDirs, tempDir } from './helpers.js';

const name = 'file storage (fsync always)';
const makeBus = (options?: Parameters<typeof createBus>[0]) => createBus({ ...options, storage: fileStorage(tempDir()) });

describeNeutralConformance(inProcessTarget(name, makeBus, cleanTempDirs));
describeInProcessConformance(name, makeBus);

/** fileStorage through the asynchronous seam only (as a store that cannot open in the calling turn). */
function asyncOnly(storage: Storage): Storage {
  return { name: storage.name, open: (topic) => storage.open(topic), checkName: (topic) => storage.checkName?.(topic) };
}
describeNeutralConformance(inProcessTarget(`${name}, opened asynchronously`, (options) => createBus({ ...options, storage: asyncOnly(fileStorage(tempDir())) }), cleanTempDirs));

afterAll(cleanTempDirs);
