import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBus, type Delivery } from '../../src/index.js';
import { natsEngine } from '../../src/nats/index.js';
import { handle } from '../../src/operators/index.js';
import { bundleChild } from '../bundle.js';
import { deleteStreams, freshPrefix, NATS_URL, nats } from './service.js';

const CHILD = fileURLToPath(new URL('./member-process.ts', import.meta.url));
/** member-process.ts compiled once to plain JavaScript (test/bundle.ts): no TypeScript loader per process. */
let childJs = '';
beforeAll(async () => {
  childJs = await bundleChild(CHILD);
});
const prefixes: string[] = [];
afterAll(async () => {
  for (const p of prefixes) await deleteStreams(p);
});

interface Line {
  pid: number;
  value?: number;
  deliveryCount?: number;
  acked?: number;
  published?: number;
  ready?: boolean;
}

function child(env: Record<string, string>, lines: Line[]): ChildProcess {
  const p = spawn(process.execPath, [childJs], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  createInterface({ input: p.stdout! }).on('line', (l) => lines.push(JSON.parse(l) as Line));
  return p;
}

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!nats.available)(`nats engine across processes${nats.available ? '' : ` (${nats.reason})`}`, () => {
  it('two member processes compete in one group, a third publishes; one is SIGKILLed holding messages: each message is acked exactly once, the redelivered ones with deliveryCount >= 2', async () => {
    const prefix = freshPrefix();
    prefixes.push(prefix);
    const N = 40;
    const bus = createBus({ engine: natsEngine({ servers: NATS_URL, prefix, streamStorage: 'memory' }) });
    const jobs = bus.topic<number>('jobs', { groups: ['w'], ackTimeoutMs: 1_000 });
    await jobs.publish(-1); // the topic and its group exist before the children open them
    await (await jobs.consumer({ group: 'w' }).recv())!.ack();
    const env = { NATS_URL, PREFIX: prefix };
    const a: Line[] = [];
    const b: Line[] = [];
    const pub: Line[] = [];
    const holder = child({ ...env, ROLE: 'member', ACK_FIRST: '2' }, a); // acks two, then holds what it gets
    const worker = child({ ...env, ROLE: 'member' }, b);
    try {
      await until('both members to join the group', () => a.some((l) => l.ready) && b.some((l) => l.ready));
      child({ ...env, ROLE: 'publisher', N: String(N) }, pub);
      await until('the publisher', () => pub.some((l) => l.published === N));
      await until('the holder to hold a message', () => a.filter((l) => l.value !== undefined).length > 2);
      holder.kill('SIGKILL');
      const held = a.filter((l) => l.value !== undefined).slice(2).map((l) => l.value!);
      const acks = (): Line[] => [...a, ...b].filter((l) => l.acked !== undefined);
      await until('every message to be acked', () => new Set(acks().map((l) => l.acked)).size === N);
      await new Promise((r) => setTimeout(r, 1_500)); // past the ack timeout: nothing comes back
      const count = new Map<number, number>();
      for (const l of acks()) count.set(l.acked!, (count.get(l.acked!) ?? 0) + 1);
      expect([...count.entries()].filter(([, n]) => n !== 1)).toEqual([]);
      expect(count.size).toBe(N);
      expect(held.length).toBeGreaterThan(0);
      for (const v of held) expect(b.find((l) => l.acked === v)?.deliveryCount, `value ${v}`).toBeGreaterThanOrEqual(2);
      await until('the group to be settled', () => {
        const g = jobs.stats().groups.w;
        return g?.pending === 0 && g.committed === N + 1;
      });
    } finally {
      holder.kill('SIGKILL');
      worker.kill('SIGKILL');
      await bus.close();
    }
  }, 60_000);

  it('values(), readable(), consume() and handle run over the engine', async () => {
    const prefix = freshPrefix();
    prefixes.push(prefix);
    const bus = createBus({ engine: natsEngine({ servers: NATS_URL, prefix, streamStorage: 'memory' }) });
    try {
      const t = bus.topic<number>('faces', { groups: ['v', 'r', 'c', 'h'] });
      await t.publishBatch([1, 2, 3, 4]);
      expect(await lastValueFrom(t.values({ group: 'v' }).pipe(take(4), toArray()))).toEqual([1, 2, 3, 4]);
      const reader = t.readable({ group: 'r', prefetch: 2 }).getReader();
      const read: number[] = [];
      while (read.length < 4) {
        const { value } = await reader.read();
        read.push(value!.value);
        value!.ack();
      }
      await reader.cancel();
      expect(read).toEqual([1, 2, 3, 4]);
      const consumed: Delivery<number>[] = [];
      for await (const d of t.consume({ group: 'c' })) {
        consumed.push(d);
        d.ack();
        if (consumed.length === 4) break;
      }
      expect(consumed.map((d) => d.value)).toEqual([1, 2, 3, 4]);
      const outcomes = await lastValueFrom(t.messages({ group: 'h' }).pipe(handle(async (v) => v * 10), take(4), toArray()));
      expect(outcomes.map((o) => (o.ok ? o.result : undefined))).toEqual([10, 20, 30, 40]);
      // values() + take(4): the value the unsubscribing downstream took is returned, as on the memory engine
      const settled = { v: 3, r: 4, c: 4, h: 4 };
      await until('every group to be settled', () => Object.entries(settled).every(([g, n]) => t.stats().groups[g]?.committed === n), 5_000).catch((e: Error) => {
        throw new Error(`${e.message}: ${JSON.stringify(t.stats().groups)}`);
      });
    } finally {
      await bus.close();
    }
  }, 30_000);
});
