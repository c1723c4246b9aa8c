import { afterAll } from 'vitest';
import { createBus } from '../../src/index.js';
import { fileStorage } from '../../src/node/index.js';
import { describeInProcessConformance, describeNeutralConformance, inProcessTarget } from '../conformance/index.js';
import { cleanTempDirs, tempDir } from './helpers.js';

const name = 'file storage (fsync always)';
const makeBus = (options?: Parameters<typeof createBus>[0]) => createBus({ ...options, storage: fileStorage(tempDir()) });

describeNeutralConformance(inProcessTarget(name, makeBus, cleanTempDirs));
describeInProcessConformance(name, makeBus);

afterAll(cleanTempDirs);
