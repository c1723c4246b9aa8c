/**
 * Crash tests: a child process publishing and consuming with fsync 'always' is killed with
 * SIGKILL at random moments; after each kill the directory is reopened and checked. 4 kills
 * by default, 50 with RINGBUS_DEEP=1 (`RINGBUS_CRASH_RUNS=n` overrides).
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBus } from '../../src/index.js';
import { fileStorage } from '../../src/node/index.js';
import { CRASH_PATH_RUNS, CRASH_RUNS, report } from '../reliability/config.js';
import { bundleChild } from '../bundle.js';
import { cleanTempDirs, tempDir } from './helpers.js';

afterAll(() => { if (!process.env.KEEP) cleanTempDirs(); });

const RUNS = CRASH_RUNS;
const CHILD = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url));
const COPY_CHILD = fileURLToPath(new URL('./fixtures/copy-child.ts', import.meta.url));
const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

/** The children, compiled once: each kill round starts a fresh process. */
let crashChild = '';
let copyChild = '';
beforeAll(async () => {
  [crashChild, copyChild] = await Promise.all([bundleChild(CHILD), bundleChild(COPY_CHILD)]);
});

interface ChildLog {
  ready: boolean;
  /** offset → value of every publish that resolved. */
  resolved: Map<number, string>;
  /** acked offsets with their event number */
  acks: { offset: number; id: number }[];
  receipts: { offset: number; count: number; id: number }[];
  /** Every event numbered below this is durable. */
  durableMark: number;
}

/** Runs a child, kills it `killAfterMs` after it is ready, and reads its log. */
function runChild(dir: string, run: number, killAfterMs: number): Promise<ChildLog> {
  const logFile = join(dir, `child-${run}.log`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [crashChild, dir, String(run), logFile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let ready = false;
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      if (!ready && d.toString().includes('READY')) {
        ready = true;
        setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      if (!ready) return reject(new Error(`crash child did not start (${signal ?? code}): ${err}`));
      if (signal !== 'SIGKILL') return reject(new Error(`crash child ended by itself (${signal ?? code}): ${err}`));
      const log: ChildLog = { ready, resolved: new Map(), acks: [], receipts: [], durableMark: 0 };
      const lines = readFileSync(logFile, 'utf8').split('\n');
      lines.pop(); // an incomplete last line is ignored
      for (const line of lines) {
        const [tag, a, b, c] = line.split(' ');
        if (tag === 'P') {
          log.resolved.set(Number(a), b);
          if (Number(c) > log.durableMark) log.durableMark = Number(c);
        } else if (tag === 'A') log.acks.push({ offset: Number(a), id: Number(b) });
        else if (tag === 'R') log.receipts.push({ offset: Number(a), count: Number(b), id: Number(c) });
      }
      if (!process.env.KEEP) rmSync(logFile, { force: true });
      resolve(log);
    });
  });
}

describe('crash recovery (fsync always, SIGKILL)', () => {
  it(`every resolved publish survives ${RUNS} kills exactly once; groups resume at their committed offsets and redeliver what was not acked`, async () => {
    const dir = tempDir('ringbus-crash-');
    const everResolved = new Map<number, string>();
    let totalResolved = 0;
    let totalRedelivered = 0;
    const durableAcks = new Set<number>(); // acked, and made durable by a later publish's sync
    const allAcks = new Set<number>(); // acked at all (maybe not durable)
    for (let run = 0; run < RUNS; run++) {
      const log = await runChild(dir, run, 20 + Math.floor(Math.random() * 400));
      for (const [off, v] of log.resolved) {
        expect(everResolved.has(off), `offset ${off} resolved twice`).toBe(false);
        everResolved.set(off, v);
      }
      totalResolved += log.resolved.size;

      const bus = createBus({ storage: fileStorage(dir) });
      const t = bus.topic<string>('crash', { capacity: 1 << 18, groups: ['g'] });
      const s = t.stats();
      // every message is retained but those the group had settled when a full ring evicted them
      // (a deep run publishes more than `capacity` in all)
      expect(s.head).toBeLessThanOrEqual(s.groups.g.committed);
      const reader = t.consumer({ from: 'earliest', prefetch: 1 << 20, ack: 'auto' });
      const seen = new Map<string, number>();
      let expectOffset = s.head;
      for (let d = reader.tryRecv(); d !== undefined; d = reader.tryRecv()) {
        expect(d.offset, 'offsets are contiguous').toBe(expectOffset++);
        expect(seen.has(d.value), `value ${d.value} present twice`).toBe(false);
        seen.set(d.value, d.offset);
      }
      reader.close();
      expect(expectOffset).toBe(s.tail);
      for (const [off, v] of everResolved) if (off >= s.head) expect(seen.get(v), `resolved publish ${v} at ${off}`).toBe(off);

      // the group: committed between the durable ack floor and the true ack floor
      for (const a of log.acks) {
        allAcks.add(a.offset);
        if (a.id < log.durableMark) durableAcks.add(a.offset);
      }
      const committed = s.groups.g.committed;
      const c = t.consumer({ group: 'g', prefetch: 1 << 20 });
      const redelivered = new Map<number, number>();
      for (let d = c.tryRecv(); d !== undefined; d = c.tryRecv()) redelivered.set(d.offset, d.deliveryCount);
      c.close();
      for (const off of durableAcks) expect(redelivered.has(off), `durably acked ${off} came back`).toBe(false);
      for (let off = committed; off < s.tail; off++) {
        if (!allAcks.has(off)) expect(redelivered.has(off), `unacked ${off} is redelivered (run ${run}, committed ${committed}, tail ${s.tail}, redelivered ${redelivered.size}, min ${Math.min(...redelivered.keys())} max ${Math.max(...redelivered.keys())}, dir ${dir})`).toBe(true);
      }
      for (const r of log.receipts) {
        if (r.id < log.durableMark && !allAcks.has(r.offset) && r.offset >= committed) {
          expect(redelivered.get(r.offset), `delivery count of ${r.offset}`).toBeGreaterThan(r.count);
        }
      }
      // committed is at least the floor of durable acks, at most the floor of all acks
      let durableFloor = 0;
      while (durableAcks.has(durableFloor)) durableFloor++;
      let allFloor = 0;
      while (allAcks.has(allFloor)) allFloor++;
      expect(committed).toBeGreaterThanOrEqual(durableFloor);
      expect(committed).toBeLessThanOrEqual(allFloor);
      totalRedelivered += redelivered.size;
      await bus.close();
    }
    expect(totalResolved).toBeGreaterThan(RUNS * 10);
    // for the record (docs/storage.md)
    console.log(`crash runs: ${RUNS}, resolved publishes checked: ${totalResolved}, distinct offsets: ${everResolved.size}, redeliveries checked: ${totalRedelivered}`);
  }, 30_000 + RUNS * 8_000);
});


/**
 * Runs copy-child.ts in `mode` and returns the values its log confirmed (`W`/`P` lines). Kills
 * it `killAfterMs` after its 10th confirmed message (FLOWING), or (`killAfterMs` undefined) lets
 * it end by itself.
 */
function runCopyChild(mode: string, dir: string, run: number, killAfterMs: number | undefined): Promise<string[]> {
  const logFile = join(dir, `copy-${mode}-${run}.log`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [copyChild, mode, dir, String(run), logFile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let ready = false;
    let flowing = false;
    let err = '';
    let said = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      said += d.toString();
      ready ||= said.includes('READY');
      // The kill is timed from the 10th confirmed message, so every run has work to check.
      if (!flowing && said.includes('FLOWING')) {
        flowing = true;
        if (killAfterMs !== undefined) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      if (!ready) return reject(new Error(`copy child did not start (${signal ?? code}): ${err}`));
      const expected = killAfterMs === undefined ? code === 0 : signal === 'SIGKILL';
      if (!expected) return reject(new Error(`copy child ${mode} ended with ${signal ?? code}: ${err}`));
      const lines = readFileSync(logFile, 'utf8').split('\n');
      lines.pop(); // an incomplete last line is ignored
      if (!process.env.KEEP) rmSync(logFile, { force: true });
      resolve(lines.map((l) => l.slice(2)));
    });
  });
}

/** Every value `topic` retains, from the earliest offset. */
function retained(bus: ReturnType<typeof createBus>, name: string): string[] {
  const c = bus.topic<string>(name, { capacity: 1 << 18 }).consumer({ from: 'earliest', ack: 'auto', prefetch: 1 << 20 });
  const out: string[] = [];
  for (let d = c.tryRecv(); d !== undefined; d = c.tryRecv()) out.push(d.value);
  c.close();
  return out;
}

describe('crash recovery of the writable face (fsync always)', () => {
  it('100 awaited writes, writer closed, the script ends without bus.close(): all 100 are there', async () => {
    const dir = tempDir('ringbus-crash-w-');
    const confirmed = await runCopyChild('writable-exit', dir, 0, undefined);
    expect(confirmed).toHaveLength(100);
    const bus = createBus({ storage: fileStorage(dir) });
    expect(retained(bus, 'w')).toEqual(confirmed);
    await bus.close();
  });

  it(`every resolved write survives ${CRASH_PATH_RUNS} kills`, async () => {
    const dir = tempDir('ringbus-crash-w-');
    const confirmed = new Set<string>();
    for (let run = 0; run < CRASH_PATH_RUNS; run++) {
      for (const v of await runCopyChild('writable', dir, run, 20 + Math.floor(Math.random() * 300))) confirmed.add(v);
      const bus = createBus({ storage: fileStorage(dir) });
      const there = new Set(retained(bus, 'w'));
      await bus.close();
      for (const v of confirmed) expect(there.has(v), `resolved write ${v} (run ${run})`).toBe(true);
    }
    expect(confirmed.size).toBeGreaterThan(CRASH_PATH_RUNS * 5);
    report(`crash writable: ${CRASH_PATH_RUNS} kills, ${confirmed.size} resolved writes checked, none lost`);
  }, 30_000 + CRASH_PATH_RUNS * 8_000);
});

describe('crash recovery of copies into a durable topic: nothing confirmed is lost', () => {
  const modes = ['dead-letter', 'dead-letter-to', 'dead-letter-to-stream', 'publish-to', 'forward-to', 'forward-to-stream'];
  for (const mode of modes) {
    it(`${mode}: after each of ${CRASH_PATH_RUNS} kills, every resolved publish is in the destination or still in the source group`, async () => {
      const dir = tempDir(`ringbus-crash-${mode}-`);
      const published = new Set<string>();
      let copied = 0;
      for (let run = 0; run < CRASH_PATH_RUNS; run++) {
        for (const v of await runCopyChild(mode, dir, run, 50 + Math.floor(Math.random() * 400))) published.add(v);
        const bus = createBus({ storage: fileStorage(dir) });
        const inDst = retained(bus, 'dst');
        const src = bus.topic<string>('src', { capacity: 1 << 18, groups: ['g'] });
        const c = src.consumer({ group: 'g', prefetch: 1 << 20 });
        const inSrc: string[] = [];
        for (let d = c.tryRecv(); d !== undefined; d = c.tryRecv()) inSrc.push(d.value);
        c.close();
        await bus.close();
        const somewhere = new Set([...inDst, ...inSrc]);
        for (const v of published) expect(somewhere.has(v), `${mode}: resolved publish ${v} is in neither topic (run ${run}, dir ${dir})`).toBe(true);
        copied = inDst.length;
      }
      expect(published.size).toBeGreaterThan(CRASH_PATH_RUNS * 5);
      expect(copied, 'the copies happened').toBeGreaterThan(0);
      report(`crash ${mode}: ${CRASH_PATH_RUNS} kills, ${published.size} resolved publishes checked, ${copied} copies in the destination, none lost`);
    }, 30_000 + CRASH_PATH_RUNS * 8_000);
  }
});
