// The engine-neutral conformance suite on the memory engine in a browser page, on the page's clock.
import { createBus } from '../../../src/index.js';
import { describeNeutralConformance, realTimeTarget } from '../../conformance/index.js';

describeNeutralConformance(realTimeTarget('memory in Chromium (real clock, 40 ms units)', (options) => createBus(options), 40));
