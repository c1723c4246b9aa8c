import { createBus } from '../../src/index.js';
import { describeTopicConformance } from '../conformance/index.js';

describeTopicConformance('memory', (options) => createBus(options));
