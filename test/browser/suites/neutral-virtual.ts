// The engine-neutral conformance suite on the memory engine in a browser page, on virtual time.
import { createBus } from '../../../src/index.js';
import { describeNeutralConformance, inProcessTarget } from '../../conformance/index.js';

describeNeutralConformance(inProcessTarget('memory in Chromium', (options) => createBus(options)));
