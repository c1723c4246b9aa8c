import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

function runScript(body: string, flags: string[] = []): Promise<{ code: number | null; stdout: string; ms: number }> {
  const file = join(tmpdir(), `ringbus-${process.pid}-${Math.random().toString(36).slice(2)}.mts`);
  writeFileSync(file, body.replaceAll('RINGBUS', JSON.stringify(join(root, 'src', 'index.ts'))));
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [...flags, '--import', 'tsx', file], { cwd: root, timeout: 20_000 }, (err, stdout) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, ms: Date.now() - started });
    });
  });
}

describe('process lifetime and garbage collection', () => {
  it('no ringbus timer keeps a Node process alive on its own', async () => {
    const r = await runScript(`
      import { createBus } from RINGBUS;
      const bus = createBus();
      const t = bus.topic('t', { ttlMs: 600_000, ackTimeoutMs: 600_000, groups: ['g'] });
      t.tryPublish(1, { ttlMs: 500_000 });
      const c = t.consumer({ group: 'g' });
      const d = c.tryRecv();
      d.nack({ delayMs: 400_000 });
      bus.stats$(300_000).subscribe();
      void c.recvTimeout(700_000);
      console.log('armed');
    `);
    expect(r.stdout).toContain('armed');
    expect(r.code).toBe(0);
    expect(r.ms).toBeLessThan(15_000);
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
