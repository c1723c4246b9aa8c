// The engine-neutral conformance suite on the memory engine with indexedDbStorage in a browser
// page, on virtual time.
import { describeNeutralConformance, inProcessTarget } from '../../conformance/index.js';
import { cleanup, makeBus } from './indexeddb-bus.js';

describeNeutralConformance(inProcessTarget('memory + indexedDbStorage in Chromium', makeBus, cleanup));
