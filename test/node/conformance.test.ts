import { afterAll } from 'vitest';
import { createBus } from '../../src/index.js';
import { fileStorage } from '../../src/node/index.js';
import { describeTopicConformance } from '../conformance/index.js';
import { cleanTempDirs, tempDir } from './helpers.js';

afterAll(cleanTempDirs);

describeTopicConformance('file storage (fsync always)', (options) => createBus({ ...options, storage: fileStorage(tempDir()) }));
