/**
 * Damage tests: segment files truncated at random byte positions, or with random bytes flipped,
 * recover without throwing, keep every record outside the damage, and lose (quarantine, or cut
 * as a torn tail) exactly the damaged records. 20 trials of each by default, 400 with RINGBUS_DEEP=1.
 */
import { cpSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prng as rng } from '../helpers.js';
import { createBus, type Headers } from '../../src/index.js';
import { fileStorage, type RecoveryReport } from '../../src/node/index.js';
import { cleanTempDirs, tempDir } from './helpers.js';

afterAll(cleanTempDirs);

const TRIALS = process.env.RINGBUS_DEEP ? 400 : 20;
const COUNT = 300;

interface Msg {
  i: number;
  pad: string;
}
interface Published {
  value: Msg;
  key: string | undefined;
  headers: Headers;
}


let original: string;
let published: Published[];
/** Per segment file: [start, end) byte ranges of its records and their offsets. */
let layout: Map<string, { start: number; end: number; offset: number }[]>;
const topicPath = (root: string) => join(root, 'topics', 'damaged');

beforeAll(async () => {
  original = tempDir('ringbus-damage-');
  const bus = createBus({ storage: fileStorage(original, { fsync: 'never', segmentBytes: 4096 }) });
  const t = bus.topic<Msg>('damaged', { capacity: 1024 });
  const r = rng(7);
  published = [];
  for (let i = 0; i < COUNT; i++) {
    const p: Published = { value: { i, pad: 'x'.repeat(Math.floor(r() * 120)) }, key: i % 3 === 0 ? `k${i}` : undefined, headers: i % 5 === 0 ? { h: String(i) } : {} };
    published.push(p);
    await t.publish(p.value, { key: p.key, headers: p.headers });
  }
  await bus.close();
  layout = new Map();
  for (const f of readdirSync(topicPath(original)).filter((n) => n.endsWith('.log') && !n.startsWith('groups'))) {
    const buf = readFileSync(join(topicPath(original), f));
    const recs: { start: number; end: number; offset: number }[] = [];
    let pos = 16;
    let off = Number(f.slice(0, 20));
    while (pos < buf.length) {
      const end = pos + 8 + buf.readUInt32LE(pos);
      recs.push({ start: pos, end, offset: off++ });
      pos = end;
    }
    layout.set(f, recs);
  }
});

/** Reopens a damaged copy; returns the report and every retained message. */
async function reopen(root: string): Promise<{ report: RecoveryReport; got: Map<number, { value: Msg; key: string | undefined; headers: Headers }>; tail: number }> {
  let report: RecoveryReport | undefined;
  const bus = createBus({ storage: fileStorage(root, { fsync: 'never', segmentBytes: 4096, onRecovery: (r) => (report = r) }) });
  const t = bus.topic<Msg>('damaged', { capacity: 1024 });
  const c = t.consumer({ from: 'earliest', prefetch: 4096, ack: 'auto' });
  const got = new Map<number, { value: Msg; key: string | undefined; headers: Headers }>();
  for (let d = c.tryRecv(); d !== undefined; d = c.tryRecv()) got.set(d.offset, { value: d.value, key: d.key, headers: d.headers });
  const tail = t.stats().tail;
  await bus.close();
  return { report: report as RecoveryReport, got, tail };
}

function lostBy(report: RecoveryReport, tail: number): Set<number> {
  const lost = new Set<number>();
  for (const q of report.quarantined) for (let o = q.from; o < q.to; o++) lost.add(o);
  // a tail cut inside a record is reported; one exactly at a record boundary looks like records never written
  if (report.truncatedFrom !== undefined) expect(report.truncatedFrom).toBe(tail);
  for (let o = tail; o < COUNT; o++) lost.add(o);
  return lost;
}

function checkKept(got: Map<number, { value: Msg; key: string | undefined; headers: Headers }>, lost: Set<number>): void {
  for (let o = 0; o < COUNT; o++) {
    if (lost.has(o)) {
      expect(got.has(o), `lost offset ${o} is not retained`).toBe(false);
      continue;
    }
    const m = got.get(o);
    expect(m, `offset ${o} kept`).toBeDefined();
    expect(m!.value).toEqual(published[o].value);
    expect(m!.key).toBe(published[o].key);
    expect({ ...m!.headers }).toEqual(published[o].headers);
  }
}

describe('damaged segments', { timeout: 20_000 + TRIALS * 200 }, () => {
  it('the fixture has several segments', () => {
    expect(layout.size).toBeGreaterThan(4);
  });

  it(`truncated at ${TRIALS} random byte positions: recovery cuts at the last whole record and loses nothing before it`, async () => {
    const files = [...layout.keys()].sort();
    for (let trial = 0; trial < TRIALS; trial++) {
      const r = rng(1000 + trial);
      const root = tempDir('ringbus-trunc-');
      cpSync(original, root, { recursive: true });
      // mostly the last segment (a torn write), sometimes a sealed one
      const f = r() < 0.7 ? files[files.length - 1] : files[Math.floor(r() * files.length)];
      const size = statSync(join(topicPath(root), f)).size;
      const at = 16 + Math.floor(r() * (size - 16));
      truncateSync(join(topicPath(root), f), at);
      const damaged = new Set(layout.get(f)!.filter((x) => x.end > at).map((x) => x.offset));
      const last = f === files[files.length - 1];
      const { report, got, tail } = await reopen(root);
      const lost = lostBy(report, tail);
      // a sealed segment cut at a record boundary loses its whole records after the cut; the next segment says where they end
      expect([...lost].sort((a, b) => a - b), `seed ${1000 + trial}: ${f} cut at ${at}`).toEqual([...damaged].sort((a, b) => a - b));
      if (last) expect(report.quarantined).toEqual([]);
      checkKept(got, lost);
      // a second open finds nothing more to repair
      const again = await reopen(root);
      expect(again.report.truncatedBytes + again.report.quarantined.length).toBe(0);
      expect(again.tail).toBe(tail);
    }
  });

  it(`${TRIALS} random byte flips: exactly the damaged records are quarantined (or cut, at the very tail)`, async () => {
    const files = [...layout.keys()].sort();
    let quarantinedTrials = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const r = rng(5000 + trial);
      const root = tempDir('ringbus-flip-');
      cpSync(original, root, { recursive: true });
      const f = files[Math.floor(r() * files.length)];
      const path = join(topicPath(root), f);
      const buf = readFileSync(path);
      const flips = 1 + Math.floor(r() * 3);
      const damaged = new Set<number>();
      for (let k = 0; k < flips; k++) {
        const at = 16 + Math.floor(r() * (buf.length - 16));
        buf[at] ^= 1 << Math.floor(r() * 8);
        for (const x of layout.get(f)!) if (x.start <= at && at < x.end) damaged.add(x.offset);
      }
      writeFileSync(path, buf);
      const { report, got, tail } = await reopen(root);
      const lost = lostBy(report, tail);
      expect([...lost].sort((a, b) => a - b), `seed ${5000 + trial}: ${f}`).toEqual([...damaged].sort((a, b) => a - b));
      checkKept(got, lost);
      if (report.quarantined.length > 0) {
        quarantinedTrials++;
        expect(statSync(join(topicPath(root), 'quarantine.log')).size).toBeGreaterThan(0);
      }
      const again = await reopen(root);
      expect(again.report.truncatedBytes + again.report.quarantined.length).toBe(0);
    }
    expect(quarantinedTrials).toBeGreaterThan(TRIALS / 2);
  });

  it('a quarantined record goes to the dead-letter topic with reason corrupt (once)', async () => {
    const root = tempDir('ringbus-dlq-');
    cpSync(original, root, { recursive: true });
    const f = [...layout.keys()].sort()[2];
    const victim = layout.get(f)![1];
    const buf = readFileSync(join(topicPath(root), f));
    buf[victim.start + 30] ^= 0x10;
    writeFileSync(join(topicPath(root), f), buf);
    for (let open = 0; open < 2; open++) {
      const bus = createBus({ storage: fileStorage(root, { fsync: 'never', segmentBytes: 4096 }) });
      bus.topic<Msg>('damaged', { capacity: 1024, deadLetter: 'damaged.dlq' });
      const dlq = bus.topic<Uint8Array>('damaged.dlq', { groups: ['ops'] });
      await Promise.resolve();
      const got = dlq.consumer({ group: 'ops' });
      if (open === 0) {
        const d = got.tryRecv()!;
        expect(d.headers).toMatchObject({ 'x-dead-letter-reason': 'corrupt', 'x-original-topic': 'damaged', 'x-original-offset': String(victim.offset), 'x-original-offsets': `${victim.offset}..${victim.offset}` });
        expect(d.value).toEqual(new Uint8Array(buf.subarray(victim.start, victim.end)));
        d.ack();
      }
      expect(got.tryRecv()).toBeUndefined(); // the second open finds nothing new to dead-letter
      await bus.close();
    }
  });

  it('a damaged group journal recovers without throwing and loses only progress (deliveries come back)', async () => {
    const root = tempDir('ringbus-journal-');
    const bus = createBus({ storage: fileStorage(root, { fsync: 'never' }) });
    const t = bus.topic<number>('g', { groups: ['w'] });
    await t.publishBatch(Array.from({ length: 100 }, (_, i) => i));
    const c = t.consumer({ group: 'w', prefetch: 1000 });
    for (let i = 0; i < 60; i++) {
      c.tryRecv()!.ack();
      await t.publish(100 + i); // one journal batch per publish
    }
    await bus.close();
    const journal = join(root, 'topics', 'g', 'groups.0.log');
    const pristine = readFileSync(journal);
    for (let trial = 0; trial < TRIALS; trial++) {
      const r = rng(9000 + trial);
      const buf = Buffer.from(pristine);
      let damaged: Buffer;
      if (trial % 2 === 0) damaged = buf.subarray(0, Math.floor(r() * buf.length));
      else {
        buf[Math.floor(r() * buf.length)] ^= 1 << Math.floor(r() * 8);
        damaged = buf;
      }
      writeFileSync(journal, damaged);
      const again = createBus({ storage: fileStorage(root, { fsync: 'never' }) });
      const g = again.topic<number>('g', { groups: ['w'] });
      const committed = g.stats().groups.w.committed;
      expect(committed).toBeLessThanOrEqual(60);
      // nothing unacked is lost: every offset never acked (60..159) is delivered; what a skipped
      // batch settled (some of 0..59) may come back (at-least-once)
      const d = g.consumer({ group: 'w', prefetch: 1000 });
      const got = new Set<number>();
      for (let m = d.tryRecv(); m !== undefined; m = d.tryRecv()) got.add(m.offset);
      for (let o = 60; o < 160; o++) expect(got.has(o), `offset ${o} (trial ${trial})`).toBe(true);
      for (const o of got) expect(o).toBeGreaterThanOrEqual(committed);
      if (trial % 2 === 0) expect(got.size).toBe(160 - committed); // a cut journal loses a suffix: contiguous
      await again.close();
      writeFileSync(journal, pristine);
    }
  });

  it('a damaged segment header is rewritten and its records are kept', async () => {
    const root = tempDir('ringbus-header-');
    cpSync(original, root, { recursive: true });
    const f = [...layout.keys()].sort()[1];
    const buf = readFileSync(join(topicPath(root), f));
    buf[0] ^= 0xff;
    buf[4] = 99;
    writeFileSync(join(topicPath(root), f), buf);
    const { report, got } = await reopen(root);
    expect(report.headersRepaired).toBe(1);
    checkKept(got, new Set());
  });
});
