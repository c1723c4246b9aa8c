/** `topic.writable()` on a durable topic: a resolved write means what a resolved `publish()` means. */
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createBus } from '../../src/index.js';
import { fileStorage } from '../../src/node/index.js';
import { cleanTempDirs, tempDir } from './helpers.js';

afterAll(() => cleanTempDirs());

/** A copy of `dir` as a SIGKILL would leave it now: what was written, without the lock. */
function crashCopy(dir: string): string {
  const copy = tempDir('ringbus-w-copy-');
  cpSync(dir, copy, { recursive: true });
  rmSync(join(copy, 'LOCK'), { force: true });
  return copy;
}

async function retained(dir: string): Promise<number[]> {
  const bus = createBus({ storage: fileStorage(dir) });
  const c = bus.topic<number>('w').consumer({ from: 'earliest', ack: 'auto', prefetch: 1 << 20 });
  const out: number[] = [];
  for (let d = c.tryRecv(); d !== undefined; d = c.tryRecv()) out.push(d.value);
  await bus.close();
  return out;
}

describe('writable() on a durable topic', () => {
  for (const fsync of ['always', 'interval'] as const) {
    it(`fsync ${fsync}: each resolved write is on disk at once (a crash right after it keeps it)`, async () => {
      const dir = tempDir('ringbus-w-');
      const bus = createBus({ storage: fileStorage(dir, { fsync, intervalMs: 60_000 }) });
      const writer = bus.topic<number>('w').writable().getWriter();
      const copies: string[] = [];
      for (let i = 0; i < 5; i++) {
        await writer.write(i);
        copies.push(crashCopy(dir));
      }
      await writer.close();
      for (const [i, copy] of copies.entries()) expect(await retained(copy), `after write ${i}`).toEqual(Array.from({ length: i + 1 }, (_, k) => k));
      await bus.close();
    });
  }

  it('keeps its backpressure: writer.ready waits while the ring is full under block', async () => {
    const dir = tempDir('ringbus-w-');
    const bus = createBus({ storage: fileStorage(dir) });
    const t = bus.topic<number>('w', { capacity: 2, groups: ['g'] });
    const writer = t.writable().getWriter();
    await writer.write(1);
    await writer.write(2);
    const third = writer.write(3);
    let wrote = false;
    void third.then(() => (wrote = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(wrote).toBe(false);
    expect(writer.desiredSize).toBe(0);
    const c = t.consumer({ group: 'g' });
    c.tryRecv()?.ack();
    c.tryRecv()?.ack();
    await third;
    expect(t.stats().tail).toBe(3);
    await bus.close();
  });
});
