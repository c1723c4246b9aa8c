/**
 * The segment format version: this code writes version 2 (version 1 plus the DUE and PRIORITY
 * record flags), opens a version 1 directory as it is (its segments stay version 1 and take no
 * new records), and refuses a segment of a newer version without touching it.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createBus, StorageError } from '../../src/index.js';
import { fileStorage, FORMAT_VERSION, type RecoveryReport } from '../../src/node/index.js';
import { cleanTempDirs, tempDir } from './helpers.js';

afterAll(cleanTempDirs);

const topicDir = (root: string): string => join(root, 'topics', 't');
const segments = (root: string): string[] =>
  readdirSync(topicDir(root))
    .filter((f) => f.endsWith('.log') && !f.startsWith('groups'))
    .sort();
const versionOf = (root: string, f: string): number => readFileSync(join(topicDir(root), f))[4];

/** Every message of topic `t` from the earliest offset: value, key, and its place in a group's order. */
async function readAll(root: string, options: { priorities?: number } = {}): Promise<{ values: number[]; report: RecoveryReport }> {
  let report: RecoveryReport | undefined;
  const bus = createBus({ storage: fileStorage(root, { fsync: 'never', segmentBytes: 4096, onRecovery: (r) => (report = r) }) });
  const t = bus.topic<number>('t', { capacity: 1024, ...options });
  const c = t.consumer({ from: 'earliest', prefetch: 4096, ack: 'auto' });
  const values: number[] = [];
  for (let d = c.tryRecv(); d !== undefined; d = c.tryRecv()) values.push(d.value);
  await bus.close();
  return { values, report: report as RecoveryReport };
}

/**
 * A directory as a version 1 writer left it: messages without a delay or a level are encoded the
 * same in both versions, so writing them now and setting each segment's version byte to 1 gives
 * the bytes a version 1 writer wrote.
 */
async function versionOneDir(count: number): Promise<string> {
  const root = tempDir('ringbus-v1-');
  const bus = createBus({ storage: fileStorage(root, { fsync: 'never', segmentBytes: 4096 }) });
  const t = bus.topic<number>('t', { capacity: 1024 });
  for (let i = 0; i < count; i++) await t.publish(i, { key: `k${i % 7}` });
  await bus.close();
  for (const f of segments(root)) {
    const path = join(topicDir(root), f);
    const buf = readFileSync(path);
    expect(buf[4]).toBe(2);
    buf[4] = 1;
    writeFileSync(path, buf);
  }
  return root;
}

describe('segment format version', () => {
  it('is 2, written in every new segment header', async () => {
    expect(FORMAT_VERSION).toBe(2);
    const root = tempDir('ringbus-v2-');
    const bus = createBus({ storage: fileStorage(root, { fsync: 'never' }) });
    const t = bus.topic<number>('t', { priorities: 3 });
    await t.publish(1, { priority: 2, delayMs: 5 });
    await bus.close();
    expect(segments(root).map((f) => versionOf(root, f))).toEqual([2]);
  });

  it('a version 1 directory opens as it is; new records go to a version 2 segment', async () => {
    const root = await versionOneDir(200);
    const old = segments(root);
    expect(old.length).toBeGreaterThan(1);
    const before = old.map((f) => readFileSync(join(topicDir(root), f)));

    const first = await readAll(root, { priorities: 3 });
    expect(first.values).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(first.report.headersRepaired).toBe(0);
    expect(first.report.quarantined).toEqual([]);

    // the old segments are untouched, and the records with a level go to a new one
    const bus = createBus({ storage: fileStorage(root, { fsync: 'never', segmentBytes: 4096 }) });
    const t = bus.topic<number>('t', { capacity: 1024, priorities: 3 });
    await t.publish(1000, { priority: 0 });
    await t.publish(1001, { priority: 2 });
    await bus.close();
    old.forEach((f, i) => expect(readFileSync(join(topicDir(root), f)).equals(before[i]), f).toBe(true));
    const added = segments(root).filter((f) => !old.includes(f));
    expect(added.map((f) => versionOf(root, f))).toEqual([2]);

    // both versions read back, levels included: a group takes the higher level first
    const bus2 = createBus({ storage: fileStorage(root, { fsync: 'never', segmentBytes: 4096 }) });
    const t2 = bus2.topic<number>('t', { capacity: 1024, priorities: 3 });
    const g = t2.consumer({ group: 'g', from: 'earliest', prefetch: 4096, ack: 'auto' });
    const order: number[] = [];
    for (let d = g.tryRecv(); d !== undefined; d = g.tryRecv()) order.push(d.value);
    await bus2.close();
    expect(order).toHaveLength(202);
    // the version 1 records carry no level (the middle one, 1): 1001 (level 2) goes first, 1000 (level 0) last
    expect(order[0]).toBe(1001);
    expect(order[201]).toBe(1000);
    expect(order.slice(1, 201)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('a segment of a newer version is refused with a StorageError, and left as it is', async () => {
    const root = await versionOneDir(50);
    const f = segments(root)[0];
    const path = join(topicDir(root), f);
    const buf = readFileSync(path);
    buf[4] = FORMAT_VERSION + 1;
    writeFileSync(path, buf);
    const bus = createBus({ storage: fileStorage(root, { fsync: 'never' }) });
    expect(() => bus.topic<number>('t', { capacity: 1024 })).toThrow(StorageError);
    expect(() => bus.topic<number>('t', { capacity: 1024 })).toThrow(`format version ${FORMAT_VERSION + 1}, written by a newer ringbus`);
    await bus.close();
    expect(readFileSync(path).equals(buf)).toBe(true);
  });
});
