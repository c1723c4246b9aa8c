/**
 * The durable group journal under damage: a damaged batch loses only its own events (recovery
 * resynchronises on the next whole batch), and a snapshot is applied whole or not at all.
 */
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createBus } from '../../src/index.js';
import { fileStorage, type RecoveryReport } from '../../src/node/index.js';
import { GroupJournal } from '../../src/node/internal/groups.js';
import { crc32 } from '../../src/node/internal/crc32.js';
import type { GroupEvent } from '../../src/storage.js';
import { prng } from '../helpers.js';
import { DEEP, FUZZ_RUNS, SEED } from '../reliability/config.js';
import { cleanTempDirs, tempDir } from './helpers.js';

afterAll(cleanTempDirs);

const JOURNAL = 'groups.0.log';
/** Random-damage runs: each replays a journal twice, so a fifth of the fuzz count. */
const DAMAGE_RUNS = Math.max(50, Math.floor(FUZZ_RUNS / 5));

/** Random batches of group events over groups `a`, `b` and a long-named one. */
function randomBatches(seed: number, batches: number): GroupEvent[][] {
  const r = prng(seed);
  const names = ['a', 'b', 'ü-'.repeat(20)];
  const out: GroupEvent[][] = [names.map((group) => ({ kind: 'create', group, offset: 0 }) as GroupEvent)];
  for (let i = 0; i < batches; i++) {
    const batch: GroupEvent[] = [];
    const n = 1 + Math.floor(r() * 4);
    for (let k = 0; k < n; k++) {
      const group = names[Math.floor(r() * names.length)];
      const offset = Math.floor(r() * 200);
      const x = r();
      if (x < 0.5) batch.push({ kind: 'settle', group, offset });
      else if (x < 0.8) batch.push({ kind: 'deliver', group, offset, count: 1 + Math.floor(r() * 3) });
      else if (x < 0.95) batch.push({ kind: 'commit', group, offset: Math.floor(offset / 4) });
      else batch.push({ kind: 'seek', group, offset });
    }
    out.push(batch);
  }
  return out;
}

/** Writes `batches` as one journal in a fresh directory; returns it and each batch's [start, end). */
function writeJournal(batches: GroupEvent[][]): { dir: string; bounds: [number, number][] } {
  const dir = tempDir('ringbus-journal-');
  const j = new GroupJournal(dir, false);
  j.recover();
  const bounds: [number, number][] = [];
  let at = 0;
  for (const batch of batches) {
    for (const e of batch) j.event(e);
    j.write();
    const end = statSync(join(dir, JOURNAL)).size;
    bounds.push([at, end]);
    at = end;
  }
  j.close();
  return { dir, bounds };
}

/** The state of a journal of `batches` without the batches in `skip`. */
function expected(batches: GroupEvent[][], skip: Set<number>): string {
  const dir = tempDir('ringbus-journal-ref-');
  const j = new GroupJournal(dir, false);
  j.recover();
  batches.forEach((batch, i) => {
    if (!skip.has(i)) for (const e of batch) j.event(e);
  });
  const state = show(j);
  j.close();
  rmSync(dir, { recursive: true, force: true });
  return state;
}

function show(j: GroupJournal): string {
  return JSON.stringify(j.stored().map((g) => [g.name, g.committed, g.settled, [...g.deliveries].sort((x, y) => x[0] - y[0])]));
}

function recoverCopy(dir: string, bytes: Buffer): { state: string; skipped: number; bytesSkipped: number } {
  writeFileSync(join(dir, JOURNAL), bytes);
  const j = new GroupJournal(dir, false);
  const r = j.recover(true);
  return { state: show(j), skipped: r.batchesSkipped, bytesSkipped: r.bytesSkipped };
}

/** The batches whose bytes include one of `positions`. */
function touched(bounds: [number, number][], positions: number[]): Set<number> {
  const out = new Set<number>();
  for (const p of positions) bounds.forEach(([a, z], i) => p >= a && p < z && out.add(i));
  return out;
}

describe('group journal damage', { timeout: DEEP ? 3_600_000 : 60_000 }, () => {
  const batches = randomBatches(42, DEEP ? 400 : 24);
  const { dir, bounds } = writeJournal(batches);
  const pristine = readFileSync(join(dir, JOURNAL));

  it(`one flipped bit at every byte position (${pristine.length} positions) loses exactly the batch it hit`, () => {
    const r = prng(1);
    const cache = new Map<number, string>();
    for (let p = 0; p < pristine.length; p++) {
      const buf = Buffer.from(pristine);
      buf[p] ^= 1 << Math.floor(r() * 8);
      const hit = touched(bounds, [p]);
      const i = [...hit][0];
      if (!cache.has(i)) cache.set(i, expected(batches, hit));
      const got = recoverCopy(dir, buf);
      expect(got.state, `bit flipped at byte ${p} (batch ${i})`).toBe(cache.get(i));
      // the last batch with a damaged length looks like a torn write: cut, not counted
      const last = i === bounds.length - 1 && p < bounds[i][0] + 4;
      expect(got.skipped, `byte ${p}`).toBe(last ? 0 : 1);
      expect(got.bytesSkipped, `byte ${p}`).toBe(last ? 0 : bounds[i][1] - bounds[i][0]);
    }
  });

  it(`random damage (${DAMAGE_RUNS} runs): flips, overwritten runs and zeroed runs lose only the batches they touch`, () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ at: fc.nat(), length: fc.integer({ min: 1, max: 24 }), xor: fc.integer({ min: 1, max: 255 }), zero: fc.boolean() }),
          { minLength: 1, maxLength: 4 },
        ),
        (damage) => {
          const buf = Buffer.from(pristine);
          for (const d of damage) {
            const start = d.at % buf.length;
            for (let p = start; p < Math.min(buf.length, start + d.length); p++) buf[p] = d.zero ? 0 : buf[p] ^ d.xor;
          }
          // what differs from the pristine journal in the end: two damages can undo each other
          const positions: number[] = [];
          for (let p = 0; p < buf.length; p++) if (buf[p] !== pristine[p]) positions.push(p);
          const hit = touched(bounds, positions);
          const got = recoverCopy(dir, buf);
          expect(got.state).toBe(expected(batches, hit));
          // adjacent damaged batches are one skipped region; damage with no whole batch after it reads as a torn write
          const first = Math.min(...hit);
          const wholeAfter = bounds.some((_, i) => i > first && !hit.has(i));
          expect(got.skipped).toBeGreaterThanOrEqual(wholeAfter ? 1 : 0);
          expect(got.skipped).toBeLessThanOrEqual(hit.size);
        },
      ),
      { numRuns: DAMAGE_RUNS, seed: SEED },
    );
  });

  it('a cut journal keeps every whole batch before the cut and truncates the rest (a torn write)', () => {
    for (const [i, [a, z]] of bounds.entries()) {
      if (i % 7 !== 0) continue;
      const cut = a + Math.floor((z - a) / 2);
      const skip = new Set(bounds.map((_, k) => k).filter((k) => k >= i));
      const got = recoverCopy(dir, pristine.subarray(0, cut));
      expect(got.state).toBe(expected(batches, skip));
      expect(got.skipped).toBe(0);
    }
  });
});

describe('group journal damage through the engine', () => {
  it('one flipped bit in an early batch length keeps every later ack; the report counts the skipped batch', async () => {
    const root = tempDir('ringbus-journal-e2e-');
    const open = (onRecovery?: (r: RecoveryReport) => void) => createBus({ storage: fileStorage(root, { fsync: 'never', onRecovery }) });
    const bus = open();
    const t = bus.topic<number>('g', { groups: ['w'] });
    await t.publishBatch(Array.from({ length: 500 }, (_, i) => i));
    const c = t.consumer({ group: 'w', prefetch: 1000 });
    for (let i = 0; i < 500; i++) {
      c.tryRecv()!.ack();
      await t.publish(500 + i); // one journal batch per ack
    }
    expect(t.stats().groups.w.committed).toBe(500);
    await bus.close();
    const path = join(root, 'topics', 'g', JOURNAL);
    const buf = readFileSync(path);
    // the length of the 50th batch: skip 49 batches
    let at = 0;
    for (let k = 0; k < 49; k++) at += 8 + buf.readUInt32LE(at);
    const size = 8 + buf.readUInt32LE(at);
    buf[at + 1] ^= 0x10;
    writeFileSync(path, buf);
    let report: RecoveryReport | undefined;
    const again = open((r) => (report = r));
    const g = again.topic<number>('g', { groups: ['w'] });
    // the acks of every other batch survive: the committed offset stops only at what the damaged batch settled
    const d = g.consumer({ group: 'w', prefetch: 1000 });
    const back: number[] = [];
    for (let m = d.tryRecv(); m !== undefined; m = d.tryRecv()) back.push(m.offset);
    expect(back.filter((o) => o < 500).length).toBeLessThanOrEqual(1);
    expect(back.filter((o) => o >= 500).length).toBe(500);
    expect(report!.groupBatchesSkipped).toBe(1);
    expect(report!.groupBytesSkipped).toBe(size);
    expect((g.stats().storage as { recovery: RecoveryReport }).recovery.groupBatchesSkipped).toBe(1);
    await again.close();
    expect(statSync(path).size).toBeGreaterThanOrEqual(buf.length); // not cut at the damage
  });
});

describe('groups.snap', () => {
  function snapshot(body: unknown): Buffer {
    const json = Buffer.from(JSON.stringify(body), 'utf8');
    const out = Buffer.alloc(8 + json.length);
    out.writeUInt32LE(json.length, 0);
    out.writeUInt32LE(crc32(json), 4);
    json.copy(out, 8);
    return out;
  }

  it.each([
    ['a head of 1e300', { gen: 0, head: 1e300, groups: [] }],
    ['a negative head', { gen: 0, head: -5, groups: [] }],
    ['groups not an array', { gen: 0, head: 3, groups: { w: 1 } }],
    ['a group with a string committed', { gen: 0, head: 3, groups: [['w', '4', [], []]] }],
    ['a good group then a bad one', { gen: 0, head: 3, groups: [['w', 4, [6], [[5, 1]]], ['x', 4, 'no', []]] }],
    ['bad deliveries', { gen: 0, head: 3, groups: [['w', 4, [], [[5]]]] }],
    ['a gen of NaN', { gen: null, head: 3, groups: [] }],
    ['an array', [1, 2, 3]],
  ])('a CRC-valid snapshot with %s is rejected whole: nothing of it applied, no segment deleted', async (_name, body) => {
    const root = tempDir('ringbus-snap-');
    const bus = createBus({ storage: fileStorage(root, { fsync: 'never', segmentBytes: 4096 }) });
    const t = bus.topic<string>('s', { groups: ['w'] });
    await t.publishBatch(Array.from({ length: 200 }, (_, i) => `${i}`.padEnd(100, '.')));
    await bus.close();
    const tdir = join(root, 'topics', 's');
    const segments = readdirSync(tdir).filter((f) => /^\d{20}\.log$/.test(f)).length;
    expect(segments).toBeGreaterThan(3);
    writeFileSync(join(tdir, 'groups.snap'), snapshot(body));
    let report: RecoveryReport | undefined;
    const again = createBus({ storage: fileStorage(root, { fsync: 'never', segmentBytes: 4096, onRecovery: (r) => (report = r) }) });
    const s = again.topic<string>('s', { groups: ['w'] });
    expect(report!.groupBatchesSkipped).toBe(1);
    expect(s.stats().head).toBe(0);
    expect(s.stats().tail).toBe(200);
    expect(s.stats().groups.w.committed).toBe(0);
    expect(readdirSync(tdir).filter((f) => /^\d{20}\.log$/.test(f)).length).toBe(segments);
    await again.close();
  });
});
