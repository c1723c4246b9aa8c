import { createBus } from '../../src/index.js';
import { describeTopicConformance } from '../conformance/index.js';

describeTopicConformance('in-memory', (options) => createBus(options));
