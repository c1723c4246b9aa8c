/** What the cross-thread cases (bench/cases/threads.ts) and their worker (bench/lib/thread-worker.ts) agree on. */
import { CAPACITY } from './harness.js';
import type { TopicOptions } from './ringbus.js';

export type Role = 'raw-producer' | 'raw-consumer' | 'sab-producer' | 'sab-consumer' | 'port-producer' | 'port-consumer';

/** Credit the raw consumer returns at a time (and the port producer's unit of waiting): at most CAPACITY unanswered. */
export const CREDIT = 256;

/** The topic options of the port-engine case, on every end. */
export const PORT_TOPIC: TopicOptions = { capacity: CAPACITY, overflow: 'block', groups: ['g'] };

/** Int32 slots of the shared ring's control words: what the consumer has read, what the producer has written, who sleeps. */
export const HEAD = 0;
export const TAIL = 1;
export const CONSUMER_WAITS = 2;
export const PRODUCER_WAITS = 3;
/** Bytes before the ring's slots in the SharedArrayBuffer. */
export const RING_OFFSET = 16;
