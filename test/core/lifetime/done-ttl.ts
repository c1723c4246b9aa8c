// exits: messages with a TTL (their expiry is background work)
import { createBus } from 'ringbus';
import './clock.js'; // after ringbus: its load time is not counted

const t = createBus().topic<number>('t', { groups: ['g'], ttlMs: 30_000 });
await t.publish(1);
await t.publish(2, { ttlMs: 20_000 });
console.log('published', t.stats().size);
