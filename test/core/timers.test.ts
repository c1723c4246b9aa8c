import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleChild } from '../bundle.js';

const root = join(import.meta.dirname, '..', '..');

/** Runs `body` in its own Node process, compiled to plain JavaScript first (test/bundle.ts). */
async function runScript(body: string, flags: string[] = []): Promise<{ code: number | null; stdout: string; ms: number }> {
  const file = join(tmpdir(), `ringbus-${process.pid}-${Math.random().toString(36).slice(2)}.mts`);
  writeFileSync(file, body.replaceAll('RINGBUS', JSON.stringify(join(root, 'src', 'index.ts'))));
  const js = await bundleChild(file);
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [...flags, js], { cwd: root, timeout: 20_000 }, (err, stdout) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, ms: Date.now() - started });
    });
  });
}

describe('process lifetime and garbage collection', () => {
  it('timers nobody waits for never keep a Node process alive', async () => {
    const r = await runScript(`
      import { createBus } from RINGBUS;
      const bus = createBus();
      const t = bus.topic('t', { ttlMs: 600_000, ackTimeoutMs: 600_000, groups: ['g'] });
      t.tryPublish(1, { ttlMs: 500_000 });
      t.tryPublish(2);
      t.tryPublish(3);
      const c = t.consumer({ group: 'g' });
      c.tryRecv().nack({ delayMs: 400_000 });
      c.tryRecv().nack({ delayMs: 3e9 }); // past 2^31 - 1 ms: hops
      c.tryRecv(); // never settled
      bus.stats$(300_000).subscribe().unsubscribe();
      const ac = new AbortController();
      const gone = c.recvTimeout(700_000, { signal: ac.signal });
      ac.abort();
      await gone.catch(() => undefined);
      console.log('armed');
    `);
    expect(r.stdout).toContain('armed');
    expect(r.code).toBe(0);
    expect(r.ms).toBeLessThan(15_000);
  });

  it('a timer longer than 2^31 - 1 ms holds the process exactly while waited for', async () => {
    // a script stays alive past its 300 ms probe only if something holds it
    const probe = "setTimeout(() => { console.log('still alive'); process.exit(0); }, 300).unref();";
    const script = (wait: string): Promise<{ code: number | null; stdout: string }> =>
      runScript(`
        import { createBus } from RINGBUS;
        const t = createBus().topic('t', { groups: ['g'] });
        t.tryPublish(1);
        const c = t.consumer({ group: 'g' });
        c.tryRecv().nack({ delayMs: 3e9 });
        ${probe}
        ${wait}
        console.log('done');
      `);
    const [redelivery, timeout, nobody] = await Promise.all([script('await c.recv();'), script('await c.recvTimeout(3e9);'), script('')]);
    expect(redelivery.stdout).toBe('still alive\n');
    expect(timeout.stdout).toBe('still alive\n');
    expect(nobody.stdout).toBe('done\n');
    expect(nobody.code).toBe(0);
  });

  it('a delayed message holds the process exactly while a member waits for it', async () => {
    const script = (wait: string): Promise<{ code: number | null; stdout: string }> =>
      runScript(`
        import { createBus } from RINGBUS;
        const t = createBus().topic('t', { groups: ['g'] });
        t.tryPublish('later', { delayMs: 400 });
        const c = t.consumer({ group: 'g' });
        ${wait}
        console.log('done');
      `);
    const [waited, nobody] = await Promise.all([script("console.log((await c.recv()).value);"), script('')]);
    expect(waited.stdout).toBe('later\ndone\n');
    expect(nobody.stdout).toBe('done\n');
    expect(nobody.code).toBe(0);
  });

  it('a delivery garbage-collected unsettled returns to the group (best effort)', async () => {
    const r = await runScript(
      `
      import { createBus } from RINGBUS;
      const t = createBus().topic('t', { groups: ['g'], ackTimeoutMs: Infinity });
      t.tryPublish('lost');
      const c = t.consumer({ group: 'g', returnOnGc: true });
      (() => { c.tryRecv(); })(); // dropped on the floor
      for (let i = 0; i < 50 && t.stats().groups.g.pending > 0; i++) {
        globalThis.gc();
        await new Promise((r) => setTimeout(r, 10));
      }
      const again = c.tryRecv() ?? (await c.recvTimeout(100));
      console.log('again', again?.value, again?.deliveryCount);
    `,
      ['--expose-gc'],
    );
    expect(r.stdout).toContain('again lost 2');
  });
});
