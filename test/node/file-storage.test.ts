import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, createBus, isRingbusError, StorageError } from '../../src/index.js';
import { json } from '../../src/codec/index.js';
import { fileStorage, type RecoveryReport } from '../../src/node/index.js';
import { crc32, crc32js, NATIVE_CRC32 } from '../../src/node/internal/crc32.js';
import { cleanTempDirs, tempDir } from './helpers.js';
import { virtualTime } from '../helpers.js';

afterAll(cleanTempDirs);

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const segments = (dir: string, topic: string) => readdirSync(join(dir, 'topics', topic)).filter((f) => /^\d{20}\.log$/.test(f));

describe('fileStorage options', () => {
  it('are checked synchronously with the option, the value and the range', () => {
    expect(() => fileStorage('/tmp/x', { segmentBytes: 0 })).toThrow(new ConfigError('segmentBytes', '`segmentBytes` must be an integer from 4096 to 2^31, got `0` (number)'));
    expect(() => fileStorage('/tmp/x', { segmentBytes: 0 })).toThrow(ConfigError);
    expect(() => fileStorage('/tmp/x', { fsync: 'sometimes' as never })).toThrow("`fsync` must be one of 'always', 'interval', 'never', got `\"sometimes\"` (string)");
    expect(() => fileStorage('/tmp/x', { intervalMs: 0 })).toThrow('`intervalMs` must be an integer number of milliseconds from 1 to 2^31 - 1, got `0` (number)');
    expect(() => fileStorage('/tmp/x', { maxBytes: 10 })).toThrow('`maxBytes` must be an integer from 4096 to 2^53 - 1 or `Infinity`, got `10` (number)');
    expect(() => fileStorage('/tmp/x', { codec: {} as never })).toThrow(ConfigError);
    expect(() => fileStorage('/tmp/x', { fsynk: 'never' } as never)).toThrow('`fsynk` is not a fileStorage option');
    expect(() => fileStorage('', {})).toThrow('`dir` must be a non-empty directory path, got `""` (string)');
    expect(() => fileStorage('/tmp/x', { onRecovery: 1 as never })).toThrow(ConfigError);
  });

  it('creates nothing until a topic opens', () => {
    const dir = join(tempDir(), 'later');
    fileStorage(dir);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('fileStorage', () => {
  it('a restart resumes every durable group; unacked deliveries come back with their count', async () => {
    const dir = tempDir();
    const before = createBus({ storage: fileStorage(dir) });
    const t = before.topic<{ n: number }>('jobs', { groups: ['w'] });
    await t.publishBatch([{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    const c = t.consumer({ group: 'w' });
    const got = [c.tryRecv()!, c.tryRecv()!, c.tryRecv()!, c.tryRecv()!];
    got[0].ack();
    got[1].ack();
    got[3].ack();
    await before.close();

    let report: RecoveryReport | undefined;
    const storage = fileStorage(dir, { onRecovery: (r) => (report = r) });
    const after = createBus({ storage }).topic<{ n: number }>('jobs', { groups: ['w'] });
    expect(report).toMatchObject({ topic: 'jobs', records: 5, retained: 5, tail: 5, truncatedBytes: 0, quarantined: [] });
    expect(storage.report('jobs')).toBe(report);
    expect(after.stats()).toMatchObject({ head: 0, tail: 5, size: 5 });
    expect(after.stats().groups.w).toMatchObject({ committed: 2 });
    const r = after.consumer({ group: 'w' });
    const again = r.tryRecv()!;
    expect([again.offset, again.value, again.deliveryCount]).toEqual([2, { n: 2 }, 2]);
    expect(r.tryRecv()?.offset).toBe(4);
    expect(await after.publish({ n: 5 })).toBe(5);
  });

  it('keeps values, keys, headers, timestamps and expiry; bytes of a topic codec stay bytes', async () => {
    const dir = tempDir();
    const bus = createBus({ storage: fileStorage(dir) });
    const plain = bus.topic<unknown>('plain');
    const coded = bus.topic<{ a: number }>('coded', { codec: json });
    const when = new Date('2024-01-02T03:04:05Z');
    await plain.publish({ s: 'é', n: 1.5, nested: [1, null, true], when, bin: new Uint8Array([1, 2, 3]) }, { key: 'k', headers: { h: 'v' }, ttlMs: 60_000 });
    await plain.publish(new Uint8Array([9, 8]));
    await coded.publish({ a: 1 });
    const stamp = plain.consumer({ from: 'earliest' }).tryRecv()!.timestamp;
    await bus.close();
    const again = createBus({ storage: fileStorage(dir) });
    const d = again.topic<unknown>('plain').consumer({ from: 'earliest' });
    const m = d.tryRecv()!;
    expect(m.value).toEqual({ s: 'é', n: 1.5, nested: [1, null, true], when, bin: new Uint8Array([1, 2, 3]) });
    expect([m.key, m.headers, m.timestamp]).toEqual(['k', { h: 'v' }, stamp]);
    expect(d.tryRecv()!.value).toEqual(new Uint8Array([9, 8]));
    expect(again.topic<{ a: number }>('coded', { codec: json }).consumer({ from: 'earliest' }).tryRecv()!.value).toEqual({ a: 1 });
  });

  it("the store's figures and recovery report appear in topic.stats().storage", async () => {
    const dir = tempDir();
    const bus = createBus({ storage: fileStorage(dir) });
    const t = bus.topic<number>('t', { groups: ['g'] });
    await t.publishBatch([1, 2, 3]);
    const s = t.stats().storage as { segments: number; tail: number; records: number; syncs: number; recovery: RecoveryReport };
    expect(s).toMatchObject({ segments: 1, tail: 3, records: 3 });
    expect(s.syncs).toBeGreaterThan(0);
    expect(s.recovery).toBeDefined();
    await bus.close();
    expect(createBus().topic('memory').stats().storage).toBeUndefined();
  });

  it('group commit: 1000 publishes in flight share a few fdatasyncs, and each resolves after one', async () => {
    const dir = tempDir();
    const storage = fileStorage(dir);
    const t = createBus({ storage }).topic<number>('t');
    await t.publish(-1);
    const syncs = storage.stats('t')!.syncs;
    const offsets = await Promise.all(Array.from({ length: 1000 }, (_, i) => t.publish(i)));
    expect(offsets[999]).toBe(1000);
    const used = storage.stats('t')!.syncs - syncs;
    expect(used).toBeGreaterThanOrEqual(1);
    expect(used).toBeLessThanOrEqual(2);
    expect(storage.stats('t')).toMatchObject({ records: 1001, tail: 1001 });
  });

  it.each(['interval', 'never'] as const)('fsync %s: publish resolves once written; a restart finds it', async (fsync) => {
    const dir = tempDir();
    const bus = createBus({ storage: fileStorage(dir, { fsync, intervalMs: 5 }) });
    const t = bus.topic<number>('t');
    await Promise.all([t.publish(1), t.publish(2)]);
    await new Promise((r) => setTimeout(r, 30));
    await bus.close();
    const again = createBus({ storage: fileStorage(dir, { fsync }) }).topic<number>('t');
    expect(again.stats()).toMatchObject({ tail: 2, size: 2 });
  });

  it('tryPublish and group events reach the disk within intervalMs without a publish', async () => {
    const dir = tempDir();
    const bus = createBus({ storage: fileStorage(dir, { intervalMs: 5 }) });
    const t = bus.topic<number>('t', { groups: ['g'] });
    t.tryPublish(1);
    t.tryPublish(2);
    t.consumer({ group: 'g' }).tryRecv()!.ack();
    await new Promise((r) => setTimeout(r, 50));
    // no close: read it as another process would
    const { inspectStorage } = await import('../../src/node/index.js');
    const info = inspectStorage(dir).topics[0];
    expect(info).toMatchObject({ topic: 't', tail: 2 });
    expect(info.groups).toEqual([{ name: 'g', committed: 1, lag: 1, unsettledDeliveries: 0 }]);
  });

  it('the group journal is compacted into a snapshot (atomic rename) and a restart resumes from it', async () => {
    const dir = tempDir();
    const bus = createBus({ storage: fileStorage(dir, { fsync: 'never' }) });
    const t = bus.topic<number>('t', { capacity: 1 << 18, groups: ['g'] });
    const n = 150_000; // 2 events per message: > 4 MiB of journal
    await t.publishBatch(Array.from({ length: n }, (_, i) => i));
    const c = t.consumer({ group: 'g', prefetch: 1 << 20 });
    const held = [];
    for (let d = c.tryRecv(); d !== undefined; d = c.tryRecv()) {
      if (d.offset === 100_000 || d.offset === 140_000) held.push(d);
      else d.ack();
    }
    await t.publish(-1);
    const files = readdirSync(join(dir, 'topics', 't'));
    expect(files).toContain('groups.snap');
    expect(files.filter((f) => /^groups\.\d+\.log$/.test(f))).toHaveLength(1);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await bus.close();
    const again = createBus({ storage: fileStorage(dir) }).topic<number>('t', { capacity: 1 << 18, groups: ['g'] });
    expect(again.stats().groups.g.committed).toBe(100_000);
    const r = again.consumer({ group: 'g', prefetch: 16 });
    const back = [r.tryRecv()!, r.tryRecv()!, r.tryRecv()!];
    expect(back.map((d) => [d.offset, d.deliveryCount])).toEqual([[100_000, 2], [140_000, 2], [n, 1]]);
    expect(held.map((d) => d.deliveryCount)).toEqual([1, 1]);
  });

  it('rolls segments and deletes whole segments below the head', async () => {
    const dir = tempDir();
    const bus = createBus({ storage: fileStorage(dir, { segmentBytes: 4096 }) });
    const t = bus.topic<string>('t', { capacity: 50 });
    for (let i = 0; i < 20; i++) await t.publishBatch(Array.from({ length: 50 }, (_, k) => `message ${i * 50 + k} ${'x'.repeat(40)}`));
    await bus.close();
    expect(segments(dir, 't').length).toBeLessThanOrEqual(3);
    const again = createBus({ storage: fileStorage(dir, { segmentBytes: 4096 }) }).topic<string>('t', { capacity: 50 });
    expect(again.stats()).toMatchObject({ tail: 1000, size: 50, head: 950 });
    expect(again.consumer({ from: 'earliest' }).tryRecv()!.value).toMatch(/^message 950 /);
  });

  it('keeps segments a durable group still needs, and deletes them once it has settled them and they are evicted', async () => {
    const dir = tempDir();
    const storage = fileStorage(dir, { segmentBytes: 4096 });
    const bus = createBus({ storage });
    const t = bus.topic<string>('t', { capacity: 1000, groups: ['g'] });
    await t.publishBatch(Array.from({ length: 1000 }, (_, i) => `m${i} ${'x'.repeat(40)}`));
    const before = segments(dir, 't').length;
    expect(before).toBeGreaterThan(5);
    expect(t.tryPublish('no room')).toBe(false); // the group holds every message
    expect(segments(dir, 't').length).toBe(before);
    t.consumer({ group: 'g' }).commit(1000);
    await t.publishBatch(Array.from({ length: 900 }, (_, i) => `n${i} ${'x'.repeat(40)}`));
    expect(t.stats().head).toBe(900);
    expect(storage.stats('t')!.firstOffset).toBeGreaterThan(700);
    await bus.close();
  });

  it('maxBytes deletes the oldest settled segments even while the ring retains them', async () => {
    const dir = tempDir();
    const storage = fileStorage(dir, { segmentBytes: 4096, maxBytes: 16384 });
    const bus = createBus({ storage });
    const t = bus.topic<string>('t', { capacity: 4096 });
    await t.publishBatch(Array.from({ length: 2000 }, (_, i) => `m${i} ${'x'.repeat(40)}`));
    expect(storage.stats('t')!.bytes).toBeLessThanOrEqual(16384 + 4096);
    expect(t.stats().size).toBe(2000); // the ring still holds them
    await bus.close();
    const again = createBus({ storage: fileStorage(dir, { segmentBytes: 4096, maxBytes: 16384 }) }).topic<string>('t', { capacity: 4096 });
    expect(again.stats().tail).toBe(2000);
    expect(again.stats().head).toBeGreaterThan(1500);
  });

  it('expired messages let their segments go', async () => {
    const dir = tempDir();
    const storage = fileStorage(dir, { segmentBytes: 4096, intervalMs: 5 });
    // virtual time: on a loaded machine a real 20 ms could pass before the segments are counted
    const time = virtualTime();
    const t = createBus({ storage, scheduler: time.scheduler }).topic<string>('t', { ttlMs: 20 });
    await t.publishBatch(Array.from({ length: 500 }, (_, i) => `m${i} ${'x'.repeat(40)}`));
    expect(storage.stats('t')!.segments).toBeGreaterThan(3);
    time.advance(80);
    await t.publish('fresh');
    expect(t.stats()).toMatchObject({ size: 1, expired: 500 });
    expect(storage.stats('t')!.segments).toBe(1);
  });

  it('deleteTopic deletes its directory', async () => {
    const dir = tempDir();
    const bus = createBus({ storage: fileStorage(dir) });
    await bus.topic<number>('gone').publish(1);
    expect(existsSync(join(dir, 'topics', 'gone'))).toBe(true);
    await bus.deleteTopic('gone');
    expect(existsSync(join(dir, 'topics', 'gone'))).toBe(false);
  });

  it('topic names with any characters map to safe directory names', async () => {
    const dir = tempDir();
    const bus = createBus({ storage: fileStorage(dir) });
    for (const name of ['../escape', 'a/b', '.', 'ünï', 'CON', '%41']) await bus.topic<string>(name).publish(name);
    await bus.close();
    expect(readdirSync(join(dir, 'topics')).sort()).toEqual(['%25410', '%2E', '%2E.%2Fescape', 'CON', 'a%2Fb', '%C3%BCn%C3%AF'].map((s) => s.replace('%25410', '%2541')).sort());
    const again = createBus({ storage: fileStorage(dir) });
    for (const name of ['../escape', 'a/b', '.', 'ünï', 'CON', '%41']) expect(again.topic<string>(name).consumer({ from: 'earliest' }).tryRecv()!.value).toBe(name);
  });

  it('one process per directory: a second storage gets StorageError naming the pid; a dead holder is taken over', async () => {
    const dir = tempDir();
    const bus = createBus({ storage: fileStorage(dir) });
    bus.topic('t');
    expect(() => createBus({ storage: fileStorage(dir) }).topic('u')).toThrow(new RegExp(`already open in this process \\(pid ${process.pid}\\)`));
    await bus.close();
    // another, live process
    const child = spawn(process.execPath, ['--conditions=ringbus-source', '--import', 'tsx', '-e', `import('${join(ROOT, 'src/node/index.ts')}').then(async ({ fileStorage }) => { const { createBus } = await import('${join(ROOT, 'src/index.ts')}'); createBus({ storage: fileStorage(${JSON.stringify(dir)}) }).topic('t'); console.log('held'); setInterval(() => {}, 1000); })`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve()));
      let error: unknown;
      try {
        createBus({ storage: fileStorage(dir) }).topic('t');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(StorageError);
      expect(isRingbusError(error) && error.code).toBe('ERR_STORAGE');
      expect((error as Error).message).toContain(`locked by process ${child.pid}`);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.on('close', r));
    }
    // the holder is dead: its lock is stale
    const t = createBus({ storage: fileStorage(dir) }).topic('t');
    expect(t.stats().tail).toBe(0);
  });

  it('a disk-full error rejects the publish that hit it with StorageError and accepts nothing', async () => {
    const dir = tempDir();
    const storage = fileStorage(dir, { segmentBytes: 4096 });
    const bus = createBus({ storage });
    const t = bus.topic<string>('t', { capacity: 4096 });
    await t.publish('first');
    // every segment the log may roll to is /dev/full (writes fail with ENOSPC)
    const tdir = join(dir, 'topics', 't');
    for (let b = 2; b < 400; b++) symlinkSync('/dev/full', join(tdir, `${String(b).padStart(20, '0')}.log`));
    let ok = 1;
    let error: unknown;
    for (let i = 0; i < 400 && error === undefined; i++) {
      try {
        await t.publish(`m${i} ${'x'.repeat(60)}`);
        ok++;
      } catch (e) {
        error = e;
      }
    }
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).cause).toMatchObject({ code: 'ENOSPC' });
    expect(t.stats().tail).toBe(ok); // the failed publish was not accepted
    await expect(t.publish('after')).rejects.toBeInstanceOf(StorageError);
    expect(() => t.tryPublish('after')).toThrow(StorageError);
    expect(storage.stats('t')!.failed).toBe(error);
    await bus.close();
    for (let b = 2; b < 400; b++) rmSync(join(tdir, `${String(b).padStart(20, '0')}.log`), { force: true });
    const again = createBus({ storage: fileStorage(dir, { segmentBytes: 4096 }) }).topic<string>('t', { capacity: 4096 });
    expect(again.stats().tail).toBe(ok);
  });
});

describe('crc32', () => {
  it('the pure-JS fallback agrees with zlib.crc32', () => {
    expect(NATIVE_CRC32).toBe(true);
    expect(crc32js(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    for (let n = 0; n < 300; n += 7) {
      const b = new Uint8Array(n).map(() => Math.floor(Math.random() * 256));
      expect(crc32(b)).toBe(crc32js(b));
      expect(crc32(b, 1, Math.max(1, n - 1))).toBe(crc32js(b, 1, Math.max(1, n - 1)));
    }
  });
});

void writeFileSync;
