import { type BusOptions, createBus, memoryEngine } from '../../src/index.js';
import { describeNeutralConformance, virtualClock } from '../conformance/index.js';

/** A bus over the memory engine through the engine seam: the clock's scheduler goes to the engine, which keeps the timers. */
function seamBus({ scheduler, storage, ...rest }: BusOptions) {
  return createBus({ ...rest, engine: memoryEngine({ scheduler, storage }) });
}

// The neutral part on the memory engine behind the seam: every face is the generic one (EngineTopic,
// PortConsumer) over the engine's member ports, none of the default bus's fast paths. Virtual time:
// the engine's timers run on the clock's scheduler.
describeNeutralConformance({
  name: 'memory engine through the seam',
  clock: () => virtualClock(),
  makeBus: seamBus,
  quietMs: 10,
  patienceMs: 5_000,
  lacks: { 'filter:counted': "a consumer's filter runs in the face over the seam, which settles what it rejects as an ack" },
});
