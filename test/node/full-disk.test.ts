/**
 * A full disk: writes fail with ENOSPC (injected into node:fs). Reading what was accepted
 * must not need free space, and a failed segment roll must not stop the next open.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createBus, StorageError } from '../../src/index.js';
import { fileStorage } from '../../src/node/index.js';
import { cleanTempDirs, tempDir } from './helpers.js';

afterAll(cleanTempDirs);

const cjsFs = createRequire(import.meta.url)('node:fs') as Record<string, unknown>;
const WRITERS = ['writeSync', 'writeFileSync', 'appendFileSync', 'write', 'writev', 'writevSync'] as const;
const originals = new Map<string, unknown>(WRITERS.map((k) => [k, cjsFs[k]]));

function enospc(syscall: string): NodeJS.ErrnoException {
  const e = new Error(`ENOSPC: no space left on device, ${syscall}`) as NodeJS.ErrnoException;
  e.code = 'ENOSPC';
  e.errno = -28;
  e.syscall = syscall;
  return e;
}

/**
 * Every write through node:fs fails with ENOSPC (the ESM bindings follow the CommonJS object),
 * except the storage's LOCK file: taking the lock is not what these tests are about.
 */
function diskFull(): void {
  let exempt = 0;
  for (const k of WRITERS) {
    cjsFs[k] = (...args: unknown[]) => {
      const original = originals.get(k) as (...a: unknown[]) => unknown;
      if (exempt > 0) return original(...args);
      if (k === 'writeFileSync' && typeof args[0] === 'string' && /[/\\]LOCK(\.\d+\.tmp)?$/.test(args[0])) {
        exempt++;
        try {
          return original(...args);
        } finally {
          exempt--;
        }
      }
      const cb = args[args.length - 1];
      if (k === 'write' || k === 'writev') {
        if (typeof cb === 'function') queueMicrotask(() => (cb as (e: unknown) => void)(enospc('write')));
        return;
      }
      throw enospc('write');
    };
  }
  syncBuiltinESMExports();
}

function diskFreed(): void {
  for (const k of WRITERS) cjsFs[k] = originals.get(k);
  syncBuiltinESMExports();
}

afterEach(diskFreed);

const segmentsOf = (tdir: string) => readdirSync(tdir).filter((f) => /^\d{20}\.log$/.test(f)).sort();

async function fill(root: string, n: number): Promise<void> {
  const bus = createBus({ storage: fileStorage(root, { fsync: 'never', segmentBytes: 4096 }) });
  const t = bus.topic<string>('t', { groups: ['w'] });
  await t.publishBatch(Array.from({ length: n }, (_, i) => `${i}`.padEnd(60, '.')));
  const c = t.consumer({ group: 'w' });
  for (let i = 0; i < 10; i++) c.tryRecv()!.ack();
  await bus.close();
}

async function readAll(root: string): Promise<{ values: string[]; committed: number }> {
  const bus = createBus({ storage: fileStorage(root, { fsync: 'never', segmentBytes: 4096 }) });
  const t = bus.topic<string>('t', { groups: ['w'] });
  const c = t.consumer({ from: 'earliest', prefetch: 10_000, ack: 'auto' });
  const values: string[] = [];
  for (let d = c.tryRecv(); d !== undefined; d = c.tryRecv()) values.push(d.value);
  const committed = t.stats().groups.w.committed;
  await bus.close().catch(() => {}); // closing on a full disk may fail to flush: nothing new to flush
  return { values, committed };
}

describe('a full disk', () => {
  it('the injection works: a write through node:fs fails with ENOSPC', () => {
    const root = tempDir('ringbus-enospc-');
    diskFull();
    expect(() => writeFileSync(join(root, 'x'), 'y')).toThrow('ENOSPC');
    diskFreed();
    writeFileSync(join(root, 'x'), 'y');
  });

  it('a segment roll that fails leaves no headerless segment; the error names ENOSPC once', async () => {
    const root = tempDir('ringbus-enospc-');
    const bus = createBus({ storage: fileStorage(root, { fsync: 'never', segmentBytes: 4096 }) });
    const t = bus.topic<string>('t');
    await t.publishBatch(Array.from({ length: 50 }, (_, i) => `${i}`.padEnd(60, '.'))); // under one segment
    const tdir = join(root, 'topics', 't');
    const before = segmentsOf(tdir);
    // force a roll: the batch is bigger than the segment's room
    diskFull();
    let error: unknown;
    try {
      await t.publishBatch(Array.from({ length: 100 }, (_, i) => `${i}`.padEnd(60, '.')));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StorageError);
    expect(String(error)).toContain('ENOSPC: no space left on device');
    expect(String(error)).not.toContain('ENOSPC: ENOSPC');
    for (const f of segmentsOf(tdir)) expect(statSync(join(tdir, f)).size, f).toBeGreaterThanOrEqual(16);
    expect(segmentsOf(tdir).length).toBeGreaterThanOrEqual(before.length);
    await bus.close().catch(() => {});
    diskFreed();
  });

  it('a 0-byte segment and a .log.tmp left by a failed roll: reopening on a full disk reads every accepted message', async () => {
    const root = tempDir('ringbus-enospc-');
    await fill(root, 300);
    const tdir = join(root, 'topics', 't');
    const segs = segmentsOf(tdir);
    expect(segs.length).toBeGreaterThan(2);
    // what a roll cut short by ENOSPC leaves: the next segment with no header, and a temp file
    writeFileSync(join(tdir, `${String(300).padStart(20, '0')}.log`), new Uint8Array(0));
    writeFileSync(join(tdir, `${String(300).padStart(20, '0')}.log.tmp`), new Uint8Array(0));
    diskFull();
    const { values, committed } = await readAll(root);
    expect(values.length).toBe(300);
    expect(values[299]).toBe('299'.padEnd(60, '.'));
    expect(committed).toBe(10);
    diskFreed();
    expect(existsSync(join(tdir, `${String(300).padStart(20, '0')}.log.tmp`))).toBe(false);
    // with space again, the topic takes writes at the next offset
    const bus = createBus({ storage: fileStorage(root, { fsync: 'never', segmentBytes: 4096 }) });
    const t = bus.topic<string>('t', { groups: ['w'] });
    expect(t.stats().tail).toBe(300);
    expect(await t.publish('next')).toBe(300);
    await bus.close();
  });

  it('the only segment is 0 bytes: the topic opens on a full disk (appends fail), then recovers once space is free', async () => {
    const root = tempDir('ringbus-enospc-');
    await fill(root, 12);
    const tdir = join(root, 'topics', 't');
    for (const f of segmentsOf(tdir)) writeFileSync(join(tdir, f), new Uint8Array(0));
    diskFull();
    const bus = createBus({ storage: fileStorage(root, { fsync: 'never', segmentBytes: 4096 }) });
    const t = bus.topic<string>('t', { groups: ['w'] });
    await expect(t.publish('x')).rejects.toBeInstanceOf(StorageError);
    await bus.close().catch(() => {});
    diskFreed();
    const again = createBus({ storage: fileStorage(root, { fsync: 'never', segmentBytes: 4096 }) });
    const u = again.topic<string>('t', { groups: ['w'] });
    await u.publish('y');
    expect(u.stats().tail).toBeGreaterThan(0);
    await again.close();
  });

  it('damage in the middle and a torn tail, on a full disk: everything whole is read; the repair waits for space', async () => {
    const root = tempDir('ringbus-enospc-');
    await fill(root, 300);
    const tdir = join(root, 'topics', 't');
    const segs = segmentsOf(tdir);
    const { readFileSync } = await import('node:fs');
    // flip a byte in the middle of the second segment, and tear the last one
    const mid = readFileSync(join(tdir, segs[1]));
    mid[Math.floor(mid.length / 2)] ^= 0x40;
    writeFileSync(join(tdir, segs[1]), mid);
    const lastBuf = readFileSync(join(tdir, segs[segs.length - 1]));
    writeFileSync(join(tdir, segs[segs.length - 1]), lastBuf.subarray(0, lastBuf.length - 7));
    diskFull();
    const full = await readAll(root);
    diskFreed();
    const free = await readAll(root);
    // the full disk read as much as the repairing open did
    expect(full.values.length).toBe(free.values.length);
    expect(full.values).toEqual(free.values);
    expect(free.values.length).toBeGreaterThan(290);
  });
});
