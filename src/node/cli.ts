/**
 * The `ringbus` command line (the package's `bin`):
 *
 *   ringbus inspect <dir> [--json]
 *   ringbus tail <dir> <topic> [--from earliest|latest|N] [--group g] [--follow]
 *   ringbus dashboard <dir> [--port N] [--host H] [--interval ms]
 *
 * `inspect` lists topics, segments, offsets, sizes and each group's committed offset and lag.
 * `tail` prints messages as JSON lines (offset, timestamp, key, headers, value), decoded with
 * the frame header each value carries; `--group g` starts at the group's committed offset;
 * `--follow` keeps printing what is appended. Both only read: safe next to a running process.
 * A progress line goes to stderr while a scan is long.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { decodeFrame } from '../codec/frame.js';
import { dashboardCommand } from './dashboard-cli.js';
import { inspectStorage, readGroups, topicDirs, type StorageInspection } from './inspect.js';
import { segmentName } from './internal/names.js';
import { checkRecord, readRecord, SEGMENT_HEADER_BYTES } from './internal/record.js';
import { readIndex, segmentsIn } from './internal/scan.js';

const USAGE = `usage:
  ringbus inspect <dir> [--json]
  ringbus tail <dir> <topic> [--from earliest|latest|N] [--group g] [--follow]
  ringbus dashboard <dir> [--port N] [--host 127.0.0.1] [--interval ms]`;

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** True when stderr is a terminal (the progress line rewrites itself). */
  tty: boolean;
}

const defaultIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  tty: process.stderr.isTTY === true,
};

function size(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** A progress line on stderr, shown once a scan has taken more than half a second. */
class Progress {
  private readonly start = Date.now();
  private last = 0;
  private shown = false;
  private done = 0;
  constructor(
    private readonly io: Io,
    private readonly what: string,
    private readonly total: number,
  ) {}
  add(n: number): void {
    this.done += n;
    const now = Date.now();
    if (now - this.start < 500 || now - this.last < (this.io.tty ? 200 : 2000)) return;
    this.last = now;
    this.shown = true;
    const line = `${this.what}: ${size(this.done)} of ${size(this.total)} (${Math.round((100 * this.done) / Math.max(1, this.total))}%)`;
    this.io.err(this.io.tty ? `\r${line}\x1b[K` : `${line}\n`);
  }
  end(): void {
    if (this.shown && this.io.tty) this.io.err('\r\x1b[K');
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const { dir: d } of topicDirs(dir)) for (const b of segmentsIn(d)) n += fs.statSync(join(d, segmentName(b, 'log'))).size;
  return n;
}

function printInspection(r: StorageInspection, io: Io): void {
  const lock = r.lockedBy === undefined ? 'not locked' : `locked by pid ${r.lockedBy}${alive(r.lockedBy) ? '' : ' (stale: that process is gone)'}`;
  io.out(`storage ${r.dir} (${lock}), ${r.topics.length} topic(s)\n`);
  for (const t of r.topics) {
    io.out(`\ntopic ${JSON.stringify(t.topic)}\n`);
    io.out(`  offsets ${t.head}..${t.tail} (head..tail), ${t.tail - t.head} retained, ${t.segments.length} segment(s), ${size(t.bytes)}${t.quarantineBytes > 0 ? `, quarantine.log ${size(t.quarantineBytes)}` : ''}\n`);
    for (const s of t.segments) {
      const damaged = s.damagedBytes > 0 ? `, ${size(s.damagedBytes)} not whole records (repaired on the next open)` : '';
      io.out(`  segment ${s.file}  offsets ${s.first}..${s.end}  ${s.records} record(s)  ${size(s.bytes)}${damaged}\n`);
    }
    if (t.groups.length === 0) io.out('  no durable groups\n');
    for (const g of t.groups) io.out(`  group ${JSON.stringify(g.name)}  committed ${g.committed}  lag ${g.lag}  unsettled deliveries ${g.unsettledDeliveries}\n`);
  }
}

function inspect(args: string[], io: Io): number {
  const json = args.includes('--json');
  const rest = args.filter((a) => a !== '--json');
  if (rest.length !== 1) {
    io.err(`${USAGE}\n`);
    return 2;
  }
  const dir = rest[0];
  if (!fs.existsSync(dir)) {
    io.err(`ringbus: no such directory: ${dir}\n`);
    return 1;
  }
  const progress = new Progress(io, 'scanning', dirBytes(dir));
  const r = inspectStorage(dir, (n) => progress.add(n));
  progress.end();
  if (json) io.out(JSON.stringify(r, null, 2) + '\n');
  else printInspection(r, io);
  return 0;
}

function jsonValue(v: unknown): unknown {
  return JSON.parse(
    JSON.stringify(v, (_k, x: unknown) => {
      if (typeof x === 'bigint') return `${x}n`;
      if (x instanceof Uint8Array) return { $bytes: Buffer.from(x).toString('base64') };
      return x;
    }),
  );
}

function decodeValue(payload: Uint8Array): unknown {
  try {
    return jsonValue(decodeFrame(payload));
  } catch {
    return { $bytes: Buffer.from(payload).toString('base64') };
  }
}

interface TailOptions {
  from: 'earliest' | 'latest' | number | undefined;
  group: string | undefined;
  follow: boolean;
}

function parseTail(args: string[]): { dir: string; topic: string; o: TailOptions } | string {
  const pos: string[] = [];
  const o: TailOptions = { from: undefined, group: undefined, follow: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--follow' || a === '-f') o.follow = true;
    else if (a === '--from') {
      const v = args[++i];
      if (v === 'earliest' || v === 'latest') o.from = v;
      else if (v !== undefined && /^\d+$/.test(v)) o.from = Number(v);
      else return `--from needs earliest, latest or an offset, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`;
    } else if (a === '--group') {
      const v = args[++i];
      if (v === undefined) return '--group needs a group name';
      o.group = v;
    } else if (a.startsWith('--')) return `unknown option ${a}`;
    else pos.push(a);
  }
  if (pos.length !== 2) return 'tail needs <dir> and <topic>';
  return { dir: pos[0], topic: pos[1], o };
}

/** Reads a topic's records from `start`, segment by segment, from the sparse index's nearest entry. */
class TopicReader {
  /** Segment being read and the byte position in it. */
  private base = -1;
  private pos = 0;
  constructor(
    private readonly dir: string,
    private next: number,
  ) {}

  /** Prints every whole record from the current position on; returns how many. */
  read(emit: (line: string) => void, progress?: Progress): number {
    let n = 0;
    const bases = segmentsIn(this.dir);
    for (let s = 0; s < bases.length; s++) {
      const base = bases[s];
      const limit = s + 1 < bases.length ? bases[s + 1] : Infinity;
      if (limit <= this.next || base < this.base) continue;
      const path = join(this.dir, segmentName(base, 'log'));
      if (base !== this.base) {
        this.base = base;
        this.pos = SEGMENT_HEADER_BYTES;
        const idx = readIndex(this.dir, base);
        if (idx !== undefined) {
          for (let i = 0; i + 1 < idx.length; i += 2) if (base + idx[i] <= this.next) this.pos = Math.max(this.pos, idx[i + 1]);
        }
      }
      let buf: Buffer;
      try {
        const fd = fs.openSync(path, 'r');
        try {
          const size = fs.fstatSync(fd).size;
          buf = Buffer.allocUnsafe(Math.max(0, size - this.pos));
          let got = 0;
          while (got < buf.length) {
            const k = fs.readSync(fd, buf, got, buf.length - got, this.pos + got);
            if (k === 0) break;
            got += k;
          }
          buf = buf.subarray(0, got);
        } finally {
          fs.closeSync(fd);
        }
      } catch {
        continue; // deleted by retention meanwhile
      }
      let p = 0;
      let reported = 0;
      while (p < buf.length) {
        const size = checkRecord(buf, p, buf.length);
        if (size <= 0) break; // not whole (yet): a writer is mid-append, or damage the next open repairs
        const r = readRecord(buf, p, size);
        p += size;
        if (r.offset < this.next) continue;
        this.next = r.offset + 1;
        emit(
          JSON.stringify({
            offset: r.offset,
            timestamp: new Date(r.timestamp).toISOString(),
            key: r.key,
            headers: r.headers,
            value: decodeValue(r.payload),
            ...(r.expires !== Infinity ? { expires: new Date(r.expires).toISOString() } : {}),
          }),
        );
        n++;
        if (progress !== undefined && p - reported > 1 << 20) {
          progress.add(p - reported);
          reported = p;
        }
      }
      progress?.add(buf.length - reported);
      this.pos += p;
      if (p < buf.length) break; // stop at a partial record; a later read continues here
    }
    return n;
  }
}

async function tail(args: string[], io: Io, signal?: AbortSignal): Promise<number> {
  const parsed = parseTail(args);
  if (typeof parsed === 'string') {
    io.err(`ringbus: ${parsed}\n${USAGE}\n`);
    return 2;
  }
  const { dir, topic, o } = parsed;
  const info = inspectStorage(dir).topics.find((t) => t.topic === topic);
  if (info === undefined) {
    io.err(`ringbus: no topic ${JSON.stringify(topic)} in ${dir}\n`);
    return 1;
  }
  let start = info.head;
  if (o.group !== undefined) {
    const g = readGroups(info.dir).groups.get(o.group);
    if (g === undefined) {
      io.err(`ringbus: topic ${JSON.stringify(topic)} has no durable group ${JSON.stringify(o.group)}\n`);
      return 1;
    }
    start = g.committed;
  }
  if (o.from === 'earliest') start = info.head;
  else if (o.from === 'latest') start = info.tail;
  else if (typeof o.from === 'number') start = o.from;
  start = Math.max(start, info.head);
  const reader = new TopicReader(info.dir, start);
  const progress = new Progress(io, `reading ${topic}`, info.bytes);
  reader.read((line) => io.out(line + '\n'), progress);
  progress.end();
  if (!o.follow) return 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (signal?.aborted) {
        clearInterval(timer);
        resolve();
        return;
      }
      reader.read((line) => io.out(line + '\n'));
    }, 200);
    signal?.addEventListener('abort', () => {
      clearInterval(timer);
      resolve();
    });
  });
  return 0;
}

/**
 * Runs the CLI with `args` (without `node` and the script); resolves the exit status.
 *
 * @example
 * ```ts
 * process.exitCode = await main(process.argv.slice(2));
 * ```
 */
export async function main(args: string[], io: Io = defaultIo, signal?: AbortSignal): Promise<number> {
  const [cmd, ...rest] = args;
  try {
    if (cmd === 'inspect') return inspect(rest, io);
    if (cmd === 'tail') return await tail(rest, io, signal);
    if (cmd === 'dashboard') return await dashboardCommand(rest, io, USAGE, signal);
    if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
      io.out(`${USAGE}\n`);
      return 0;
    }
    io.err(`${USAGE}\n`);
    return 2;
  } catch (e) {
    io.err(`ringbus: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

/**
 * The `bin` entry: runs {@link main} on `process.argv`, exits quietly when stdout is closed
 * early (`ringbus tail ... | head`), and stops `--follow` on SIGINT/SIGTERM.
 *
 * @example
 * ```ts
 * await run();
 * ```
 */
export async function run(args: string[] = process.argv.slice(2)): Promise<void> {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const stop = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => stop.abort());
  process.exitCode = await main(args, defaultIo, stop.signal);
}
