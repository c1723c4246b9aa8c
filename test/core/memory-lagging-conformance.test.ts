import { createBus } from '../../src/index.js';
import { describeNeutralConformance, inProcessTarget } from '../conformance/index.js';
import { lagging } from '../conformance/lagging.js';

// The neutral part with every publish and wait a timer turn late and `tryRecv` always empty:
// what a remote engine's member looks like to the tests.
describeNeutralConformance(inProcessTarget('memory behind a 1 ms lag', lagging((options) => createBus(options), 1)));
