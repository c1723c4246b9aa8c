import { createBus } from '../../src/index.js';
import { describeNeutralConformance, realTimeTarget } from '../conformance/index.js';

// The neutral part on wall time: what a remote engine's run looks like.
describeNeutralConformance(realTimeTarget('memory (real clock, 40 ms units)', (options) => createBus(options), 40));
