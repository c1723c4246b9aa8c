/**
 * The CLI on damaged and hostile directories: it reads what engine recovery would keep, skips
 * what is not a topic, names on stderr whatever it could not read, and exits 1 when it did.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBus } from '../../src/index.js';
import { fileStorage, type RecoveryReport } from '../../src/node/index.js';
import { main } from '../../src/node/cli.js';
import { constants, deflateRawSync } from 'node:zlib';
import { Batch, writeRecord } from '../../src/node/internal/record.js';
import { prng } from '../helpers.js';
import { DEEP } from '../reliability/config.js';
import { cleanTempDirs, tempDir } from './helpers.js';

afterAll(cleanTempDirs);

const COUNT = 300;
const TRIALS = DEEP ? 500 : 20;

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => (out += s), err: (s) => (err += s), tty: false });
  return { code, out, err };
}

const segmentFiles = (tdir: string) => readdirSync(tdir).filter((f) => /^\d{20}\.log$/.test(f)).sort();

let original: string;

beforeAll(async () => {
  original = tempDir('ringbus-cli-damage-');
  const bus = createBus({ storage: fileStorage(original, { fsync: 'never', segmentBytes: 4096 }) });
  const t = bus.topic<{ i: number; pad: string }>('orders', { capacity: 4096, groups: ['billing'] });
  const r = prng(3);
  for (let i = 0; i < COUNT; i++) await t.publish({ i, pad: 'x'.repeat(Math.floor(r() * 100)) });
  const c = t.consumer({ group: 'billing' });
  for (let i = 0; i < 20; i++) c.tryRecv()!.ack();
  const other = bus.topic<string>('other');
  await other.publish('hello');
  await bus.close();
});

function copy(): string {
  const root = tempDir('ringbus-cli-damage-copy-');
  cpSync(original, root, { recursive: true });
  return root;
}

/** What a reopened engine recovers: every retained message's offset and value, and the report. */
async function recovered(root: string): Promise<{ messages: [number, unknown][]; report: RecoveryReport; tail: number }> {
  let report: RecoveryReport | undefined;
  const bus = createBus({ storage: fileStorage(root, { fsync: 'never', segmentBytes: 4096, onRecovery: (r) => r.topic === 'orders' && (report = r) }) });
  const t = bus.topic<unknown>('orders', { capacity: 4096, groups: ['billing'] });
  const c = t.consumer({ from: 'earliest', prefetch: 4096, ack: 'auto' });
  const messages: [number, unknown][] = [];
  for (let d = c.tryRecv(); d !== undefined; d = c.tryRecv()) messages.push([d.offset, d.value]);
  const tail = t.stats().tail;
  await bus.close();
  return { messages, report: report!, tail };
}

function lines(out: string): [number, unknown][] {
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const j = JSON.parse(l) as { offset: number; value: unknown };
      return [j.offset, j.value];
    });
}

describe('the CLI on hostile directories', { timeout: DEEP ? 3_600_000 : 60_000 }, () => {
  it('a stray topics/%ZZ directory, a stray .DS_Store and a name no topic encodes to are skipped with a warning; healthy topics are shown', async () => {
    const root = copy();
    mkdirSync(join(root, 'topics', '%ZZ'));
    writeFileSync(join(root, 'topics', '.DS_Store'), 'junk');
    mkdirSync(join(root, 'topics', 'ab%63')); // decodes to "abc", which is stored as "abc"
    const r = await cli(['inspect', root]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('topic "orders"');
    expect(r.out).toContain('topic "other"');
    expect(r.out).toContain('2 topic(s)');
    expect(r.err).toContain(`${join(root, 'topics', '%ZZ')}: not a topic: the name does not decode`);
    expect(r.err).toContain(`${join(root, 'topics', '.DS_Store')}: not a directory`);
    expect(r.err).toContain(`${join(root, 'topics', 'ab%63')}: not a topic: topic "abc" is stored under "abc"`);
    expect(r.err).not.toContain('URI malformed');
    const json = JSON.parse((await cli(['inspect', root, '--json'])).out);
    expect(json.topics.map((t: { topic: string }) => t.topic)).toEqual(['orders', 'other']);
    expect(json.skipped).toHaveLength(3);
    const tail = await cli(['tail', root, 'orders']);
    expect(tail.code).toBe(0);
    expect(tail.err).toBe('');
    expect(lines(tail.out)).toHaveLength(COUNT);
    expect(lines((await cli(['tail', root, 'other'])).out)).toEqual([[0, 'hello']]);
  });

  it('one flipped bit in one of many segments: tail prints every record recovery keeps, names the skip on stderr and exits 1', async () => {
    const root = copy();
    const tdir = join(root, 'topics', 'orders');
    const files = segmentFiles(tdir);
    expect(files.length).toBeGreaterThan(5);
    const f = files[2];
    const buf = readFileSync(join(tdir, f));
    buf[200] ^= 0x08;
    writeFileSync(join(tdir, f), buf);
    const t = await cli(['tail', root, 'orders', '--from', 'earliest']);
    expect(t.code).toBe(1);
    expect(t.err).toMatch(new RegExp(`topic "orders" segment ${f}: \\d+ damaged byte\\(s\\) at byte \\d+ skipped: offset \\d+ lost`));
    const i = await cli(['inspect', root]);
    expect(i.code).toBe(1);
    expect(i.err).toContain(`segment ${f}`);
    expect(i.out).toContain(`${COUNT - 1} retained (1 in damaged bytes)`);
    const engine = await recovered(root);
    expect(engine.report.quarantined).toHaveLength(1);
    expect(lines(t.out)).toEqual(engine.messages);
    expect(engine.messages.length).toBe(COUNT - 1);
  });

  it('a record holding a decompression bomb: tail refuses it quickly (too-large), prints it as $bytes, names it and exits 1; recovery lists it undecodable', async () => {
    const root = copy();
    const tdir = join(root, 'topics', 'orders');
    const files = segmentFiles(tdir);
    // 1 GiB of zeros in ~1 MiB of DEFLATE, in the zlib wrapper, in a frame (msgpack, deflate)
    const chunk = deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: constants.Z_SYNC_FLUSH });
    const body = Buffer.concat([Buffer.from([0x78, 0x9c]), ...Array.from({ length: 1024 }, () => chunk), Buffer.from([0x03, 0x00, 0, 0, 0, 1])]);
    const frame = Buffer.concat([Buffer.from([0xf5, 0x52, 0x42, 1, 2, 2]), body]);
    const b = new Batch();
    writeRecord(b, COUNT, Date.now(), Infinity, undefined, {}, frame, false);
    const last = join(tdir, files[files.length - 1]);
    writeFileSync(last, Buffer.concat([readFileSync(last), b.buf.subarray(0, b.used)]));
    const rssBefore = process.memoryUsage().rss;
    const t = await cli(['tail', root, 'orders', '--from', String(COUNT)]);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(512 * 1024 * 1024);
    expect(t.code).toBe(1);
    expect(t.err).toContain(`offset ${COUNT}: value not decoded`);
    expect(t.err).toContain('maxBytes');
    const [line] = lines(t.out);
    expect(line[0]).toBe(COUNT);
    expect(Buffer.from((line[1] as { $bytes: string }).$bytes, 'base64').equals(frame)).toBe(true);
    const engine = await recovered(root);
    expect(engine.report.undecodable).toEqual([COUNT]);
  });

  it('tail --follow waits on a record half written at the end, prints it once whole, and skips damage before it', async () => {
    const root = copy();
    const tdir = join(root, 'topics', 'orders');
    const files = segmentFiles(tdir);
    const last = join(tdir, files[files.length - 1]);
    const b = new Batch();
    writeRecord(b, COUNT, 0, Infinity, undefined, {}, Buffer.from('{"late":1}'), true);
    const record = Buffer.from(b.buf.subarray(0, b.used));
    // damage a whole record in the middle of the last segment, then half-append a new one
    const buf = readFileSync(last);
    buf[40] ^= 0x01;
    writeFileSync(last, Buffer.concat([buf, record.subarray(0, 20)]));
    let out = '';
    let err = '';
    const stop = new AbortController();
    const follow = main(['tail', root, 'orders', '--follow', '--from', 'earliest'], { out: (x) => (out += x), err: (x) => (err += x), tty: false }, stop.signal);
    await new Promise((r) => setTimeout(r, 300)); // a few polls over the half-written record
    expect(err).toMatch(/damaged byte\(s\) at byte 16 skipped: offset \d+ lost/);
    expect(err).not.toContain('not a whole record');
    const before = lines(out).length;
    writeFileSync(last, Buffer.concat([buf, record]));
    // the follower polls every 200 ms: wait for its line (bounded, so a loaded machine only slows this)
    for (let waited = 0; waited < 10_000 && lines(out).length === before; waited += 50) await new Promise((r) => setTimeout(r, 50));
    stop.abort();
    expect(await follow).toBe(1);
    const got = lines(out);
    expect(got.length).toBe(before + 1);
    expect(got[got.length - 1]).toEqual([COUNT, { late: 1 }]);
    expect(got.filter(([o]) => o === COUNT)).toHaveLength(1);
  });

  it(`random damage (${TRIALS} trials): tail prints exactly what a reopened engine recovers, and exits 1 exactly when recovery lost or cut bytes`, async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const r = prng(500 + trial);
      const root = copy();
      const tdir = join(root, 'topics', 'orders');
      const files = segmentFiles(tdir);
      const hits = 1 + Math.floor(r() * 3);
      for (let h = 0; h < hits; h++) {
        const f = join(tdir, files[Math.floor(r() * files.length)]);
        const buf = readFileSync(f);
        const kind = r();
        if (kind < 0.15) {
          truncateSync(f, Math.floor(r() * buf.length));
          continue;
        }
        const at = Math.floor(r() * buf.length);
        const len = kind < 0.6 ? 1 : 1 + Math.floor(r() * 40);
        for (let p = at; p < Math.min(buf.length, at + len); p++) buf[p] = kind < 0.8 ? buf[p] ^ (1 << Math.floor(r() * 8)) : 0;
        writeFileSync(f, buf);
      }
      const stray = r() < 0.3;
      if (stray) writeFileSync(join(root, 'topics', '.DS_Store'), 'x');
      const t = await cli(['tail', root, 'orders', '--from', 'earliest']);
      const inspected = await cli(['inspect', root, '--json']);
      const engine = await recovered(root);
      const got = lines(t.out);
      expect(got, `trial ${trial}: ${t.err}`).toEqual(engine.messages);
      const lost = engine.report.quarantined.length > 0 || engine.report.truncatedBytes > 0;
      expect(t.code, `trial ${trial}: ${t.err}`).toBe(lost ? 1 : 0);
      expect(inspected.code, `trial ${trial}: ${inspected.err}`).toBe(lost || stray ? 1 : 0);
      expect(JSON.parse(inspected.out).topics[0].tail, `trial ${trial}`).toBe(engine.tail);
      if (lost) expect(t.err).toMatch(/ringbus: topic "orders" segment \d{20}\.log: /);
      // after recovery repaired it, the directory reads clean
      const again = await cli(['tail', root, 'orders', '--from', 'earliest']);
      expect(lines(again.out), `trial ${trial}`).toEqual(engine.messages);
      expect(again.code, `trial ${trial}: ${again.err}`).toBe(0);
      expect((await cli(['inspect', root])).code, `trial ${trial}`).toBe(stray ? 1 : 0);
      rmSync(root, { recursive: true, force: true });
    }
  });
});
