// The engine-neutral conformance suite on the memory engine with indexedDbStorage in a browser
// page, on the page's clock (40 ms units): no reliance on virtual time.
import { describeNeutralConformance, realTimeTarget } from '../../conformance/index.js';
import { cleanup, makeBus } from './indexeddb-bus.js';

describeNeutralConformance({ ...realTimeTarget('memory + indexedDbStorage in Chromium, real clock', makeBus), cleanup });
