import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBus } from '../../src/index.js';
import { redisEngine } from '../../src/redis/index.js';
import { bundleChild } from '../bundle.js';
import { dropPrefix, FAST, REDIS_URL, redis, testPrefix } from './target.js';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));
/** child.ts compiled once to plain JavaScript (test/bundle.ts): no TypeScript loader per process. */
let childJs = '';
beforeAll(async () => {
  childJs = await bundleChild(CHILD);
});
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Event {
  event: string;
  value?: number;
  offset?: number;
  count?: number;
}

/** A child process of child.ts, its events as they arrive. */
function start(args: string[]): { child: ChildProcess; events: Event[]; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [childJs, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const events: Event[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => events.push(JSON.parse(line) as Event));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, events, exited };
}

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const prefix = testPrefix();
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (redis.available) await dropPrefix(prefix);
});

describe.skipIf(!redis.available)('redis: across processes', () => {
  it('two members compete in one group, a third process publishes; one is SIGKILLed holding messages: each is acked exactly once, with its delivery count', async () => {
    const N = 200;
    const a = start(['handle', prefix]);
    const b = start(['hold', prefix]);
    children.push(a.child, b.child);
    await until('both members', () => a.events.length > 0 && b.events.length > 0, 60_000); // each child loads the sources through tsx
    const p = start(['publish', prefix, String(N)]);
    children.push(p.child);
    await until('the victim to hold messages', () => b.events.filter((e) => e.event === 'held').length >= 2);
    b.child.kill('SIGKILL');
    await b.exited;
    expect(await p.exited).toBe(0);
    const acked = () => [...a.events, ...b.events].filter((e) => e.event === 'acked');
    await until('every message acked', () => acked().length >= N);

    const byValue = new Map<number, Event[]>();
    for (const e of acked()) byValue.set(e.value!, [...(byValue.get(e.value!) ?? []), e]);
    expect([...byValue.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: N }, (_, i) => i));
    expect([...byValue.values()].filter((es) => es.length > 1)).toEqual([]); // exactly once

    const held = b.events.filter((e) => e.event === 'held');
    expect(held.length).toBeGreaterThanOrEqual(2);
    for (const h of held) {
      const [done] = byValue.get(h.value!)!;
      expect(done).toMatchObject({ offset: h.offset, count: h.count! + 1 }); // handed back by the lease, delivered again
    }
    // Delivered twice: what the killed member held, and what it had read ahead into its buffer
    // without handing it out yet (it never reported those). Together at most its prefetch (3);
    // every other message was delivered once.
    const again = [...byValue.values()].map(([e]) => e!).filter((e) => e.count !== 1);
    expect(again.length).toBeLessThanOrEqual(3);
    for (const e of again) expect(e, `value ${e.value}`).toMatchObject({ count: 2 });
    expect(b.events.filter((e) => e.event === 'acked').length).toBe(3);
    expect(a.events.filter((e) => e.event === 'acked').length).toBe(N - 3);

    // the server agrees: every message acked once, nothing pending, the dead member gone
    const bus = createBus({ engine: redisEngine({ url: REDIS_URL, prefix, ...FAST }) });
    const t = bus.topic<number>('jobs');
    await bus.ready();
    await until('the server figures', () => {
      const g = t.stats().groups['workers'];
      return g !== undefined && g.acked === N && g.pending === 0 && g.members === 1;
    });
    expect(t.stats().groups['workers']).toMatchObject({ acked: N, pending: 0, committed: N, lag: 0, members: 1, redelivered: again.length });
    await bus.close();
    a.child.kill('SIGTERM');
  }, 150_000);
});
