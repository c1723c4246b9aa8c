/**
 * `ringbus/nats`: the NATS JetStream engine. `createBus({ engine: natsEngine({ servers }) })`
 * gives the same Topic, Consumer and faces as the memory bus, with JetStream holding the topics
 * (one stream each) and the groups (one durable pull consumer each), so that members in many
 * processes share them. Needs `@nats-io/jetstream` and `@nats-io/transport-node` (optional peer
 * dependencies). What is native, emulated and refused: docs/engines.md.
 *
 * @example
 * ```ts
 * import { createBus } from 'ringbus';
 * import { natsEngine } from 'ringbus/nats';
 *
 * const bus = createBus({ engine: natsEngine({ servers: 'nats://127.0.0.1:4222' }) });
 * const orders = bus.topic<{ id: number }>('orders', { groups: ['billing'] });
 * await orders.publish({ id: 1 });
 * const d = await orders.consumer({ group: 'billing' }).recv();
 * d?.ack();
 * await bus.close();
 * ```
 *
 * @module
 */
export { NATS_LACKS, natsEngine, type NatsConnectionLike, type NatsEngineOptions } from './engine.js';
