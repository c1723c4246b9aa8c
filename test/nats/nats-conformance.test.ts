import { it } from 'vitest';
import { createBus } from '../../src/index.js';
import { NATS_LACKS, natsEngine } from '../../src/nats/index.js';
import { describeNeutralConformance, realClock } from '../conformance/index.js';
import { deleteStreams, freshPrefix, NATS_URL, nats } from './service.js';

// The neutral part on the NATS engine against the live server, on wall time (JetStream's timers
// run on the server's clock). Each test gets its own stream prefix; its streams are deleted after it.
let prefix = freshPrefix();

if (!nats.available) it.skip(`neutral conformance: nats (${nats.reason})`, () => {});
else
  describeNeutralConformance({
    name: 'nats (JetStream, 40 ms units)',
    clock: () => {
      prefix = freshPrefix();
      return realClock(40);
    },
    makeBus: (options) => createBus({ ...options, engine: natsEngine({ servers: NATS_URL, prefix, streamStorage: 'memory' }) }),
    quietMs: 60,
    patienceMs: 5_000,
    volume: process.env.RINGBUS_DEEP === '1' ? 1000 : 200,
    cleanup: () => deleteStreams(prefix),
    lacks: {
      'filter:counted': "a consumer's filter runs in the client's process: what it rejects is acked",
      delayMs: NATS_LACKS.delayMs,
      priorities: NATS_LACKS.priorities,
      ordering: NATS_LACKS.ordering,
    },
  });
