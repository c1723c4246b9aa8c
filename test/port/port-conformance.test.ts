import { describeNeutralConformance, realClock } from '../conformance/index.js';
import { portPair } from './channel-target.js';

// The neutral part on the MessagePort engine: a client bus over a MessageChannel to a memory bus
// served in this thread, on wall time (the served bus's timers are its own).
const pair = portPair();
describeNeutralConformance({
  name: 'port (MessageChannel, 40 ms units)',
  clock: () => realClock(40),
  makeBus: pair.makeBus,
  quietMs: 30,
  patienceMs: 5_000,
  cleanup: pair.cleanup,
  lacks: { 'filter:counted': "a consumer's filter is a function of the client's thread: it runs there, and what it rejects is acked to the served bus" },
});
