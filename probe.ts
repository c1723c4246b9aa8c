import { createClient, RESP_TYPES } from 'redis';
import { encode } from '@msgpack/msgpack';
import { createBus } from './src/index.js';
import { redisEngine } from './src/redis/index.js';
const N = 3000;
const c = createClient({ url: 'redis://127.0.0.1:6379' }); await c.connect();
const raw = c.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
const bus = createBus({ engine: redisEngine({ url: 'redis://127.0.0.1:6379', prefix: 'probe' }) });
const t = bus.topic<{id:number;v:string}>('p', { capacity: 100000 });
await bus.ready(); await t.publish({ id: -1, v: 'x' });
const engine: any = (bus as any).engine;
async function time(name: string, f: (i: number) => Promise<unknown>) {
  for (let i = 0; i < 300; i++) await f(i);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await f(i);
  console.log(name, Math.round(N / ((performance.now() - t0) / 1000)), '/s');
}
for (let r = 0; r < 2; r++) {
await time('raw XADD', (i) => raw.sendCommand(['XADD', 'probe:raw', '0-*', 'v', Buffer.from(encode({ id: i, v: 'x' })), 't', String(Date.now())]));
await time('PING', () => raw.sendCommand(['PING']));
await time('EVAL return 1', () => raw.sendCommand(['EVAL', 'return 1', '0']));
await time('script pub', (i) => engine.run('pub', 'p', ['0', Buffer.from(encode({ id: i, v: 'x' })), '', '0', '', '0']));
await time('topic.publish', (i) => t.publish({ id: i, v: 'x' }));
}
await bus.close(); await c.del(['probe:raw']); for await (const k of c.scanIterator({ MATCH: 'probe:*' })) if (k.length) await c.del(k); await c.close();
