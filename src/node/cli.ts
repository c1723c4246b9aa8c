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
 *
 * Both read what recovery would keep: damaged bytes are skipped by resynchronising on the next
 * whole record, entries of `topics/` that are not topics are skipped, and each is named on
 * stderr; the exit status is 1 when anything could not be read (or a value the store framed
 * could not be decoded), 2 for a usage error.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { decodeFrame } from '../codec/frame.js';
import { dashboardCommand } from './dashboard-cli.js';
import { inspectStorage, inspectTopic, readGroups, readLock, topicDirs, type StorageInspection } from './inspect.js';
import { segmentName } from './internal/names.js';
import { readRecord, SEGMENT_HEADER_BYTES } from './internal/record.js';
import { readQuarantine, readSegment, segmentsIn } from './internal/scan.js';

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
  for (const { dir: d } of topicDirs(dir).topics) {
    try {
      for (const b of segmentsIn(d)) n += fs.statSync(join(d, segmentName(b, 'log'))).size;
    } catch {
      // reported when the topic is read
    }
  }
  return n;
}

/** A live process holds the directory: a partial record at the very end is a write in progress. */
function liveWriter(r: StorageInspection): boolean {
  return r.lockedBy !== undefined && r.lockedBy !== process.pid && alive(r.lockedBy);
}

function offsets(from: number, to: number): string {
  if (to <= from) return 'no whole record lost';
  return to - from === 1 ? `offset ${from} lost` : `offsets ${from}..${to - 1} lost`;
}

/** Writes to stderr what could not be read; returns how many things. */
function reportProblems(r: StorageInspection, io: Io): number {
  let n = 0;
  const live = liveWriter(r);
  for (const s of r.skipped) {
    io.err(`ringbus: skipped ${s.path}: ${s.reason}\n`);
    n++;
  }
  for (const t of r.topics) {
    for (const s of t.segments) {
      for (const d of s.damaged) {
        if (d.tail && live) continue;
        const where = `ringbus: topic ${JSON.stringify(t.topic)} segment ${s.file}:`;
        if (d.bytes === 0) io.err(`${where} ends at offset ${d.from}, the next segment starts at ${d.to}: ${offsets(d.from, d.to)}\n`);
        else {
          const what = d.tail ? 'not a whole record (a torn write, cut on the next open)' : 'damaged (quarantined on the next open)';
          io.err(`${where} ${d.bytes} byte(s) at byte ${d.position} ${what}: ${offsets(d.from, d.to)}\n`);
        }
        n++;
      }
    }
  }
  return n;
}

function printInspection(r: StorageInspection, io: Io): void {
  const lock = r.lockedBy === undefined ? 'not locked' : `locked by pid ${r.lockedBy}${alive(r.lockedBy) ? '' : ' (stale: that process is gone)'}`;
  io.out(`storage ${r.dir} (${lock}), ${r.topics.length} topic(s)\n`);
  for (const t of r.topics) {
    io.out(`\ntopic ${JSON.stringify(t.topic)}\n`);
    // offsets held by damaged bytes are not readable
    let lost = 0;
    for (const s of t.segments) for (const d of s.damaged) lost += Math.max(0, Math.min(d.to, t.tail) - Math.max(d.from, t.head));
    io.out(`  offsets ${t.head}..${t.tail} (head..tail), ${t.tail - t.head - lost} retained${lost > 0 ? ` (${lost} in damaged bytes)` : ''}, ${t.segments.length} segment(s), ${size(t.bytes)}${t.quarantineBytes > 0 ? `, quarantine.log ${size(t.quarantineBytes)}` : ''}\n`);
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
  return reportProblems(r, io) > 0 ? 1 : 0;
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

/**
 * The value of a record as JSON: decoded from its frame, or `{ $bytes }` for bytes that are not
 * a frame. `onError` hears why a value the store framed itself (not `raw`) could not be decoded.
 */
function decodeValue(payload: Uint8Array, raw: boolean, onError: (e: unknown) => void): unknown {
  try {
    return jsonValue(decodeFrame(payload));
  } catch (e) {
    if (!raw) onError(e);
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

/** The bytes of `path` from byte `at` to its end. */
function readFrom(path: string, at: number): Buffer {
  const fd = fs.openSync(path, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(Math.max(0, size - at));
    let got = 0;
    while (got < buf.length) {
      const k = fs.readSync(fd, buf, got, buf.length - got, at + got);
      if (k === 0) break;
      got += k;
    }
    return buf.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

/** What a read could not deliver: damaged ranges skipped, values not decoded. */
interface ReadProblems {
  skipped: number;
  undecoded: number;
}

/**
 * Reads a topic's records from offset `next` on, segment by segment, as recovery would:
 * whole records in offset order, damage skipped by resynchronising on the next whole record
 * (each skip named on stderr). Segments wholly below `next` are not read.
 */
class TopicReader {
  /** Segment being read, the byte position in it, and the offset expected there. */
  private base = -1;
  private pos = 0;
  private expected = 0;
  readonly problems: ReadProblems = { skipped: 0, undecoded: 0 };
  constructor(
    private readonly dir: string,
    private readonly topic: string,
    private next: number,
    private readonly io: Io,
  ) {}

  private warn(line: string): void {
    this.io.err(`ringbus: topic ${JSON.stringify(this.topic)} ${line}\n`);
  }

  /**
   * Prints every whole record from the current position on; returns how many. `final`: bytes
   * at the end of the last segment that are not a whole record are reported as skipped;
   * otherwise (following) they are a write in progress, read again next time.
   */
  read(emit: (line: string) => void, final: boolean, progress?: Progress): number {
    let n = 0;
    const bases = segmentsIn(this.dir);
    for (let s = 0; s < bases.length; s++) {
      const base = bases[s];
      const limit = s + 1 < bases.length ? bases[s + 1] : Infinity;
      if (limit <= this.next || base < this.base) continue;
      const file = segmentName(base, 'log');
      if (base !== this.base) {
        this.base = base;
        this.pos = SEGMENT_HEADER_BYTES;
        this.expected = base;
      }
      // only the bytes from the current position: a followed segment is not read again whole
      const at = this.pos;
      let buf: Buffer;
      try {
        buf = readFrom(join(this.dir, file), at);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted by retention meanwhile
        throw e;
      }
      let reported = 0;
      const read = readSegment(buf, limit, 0, this.expected, (pos, size, offset) => {
        if (offset < this.next) return;
        this.next = offset + 1;
        const r = readRecord(buf, pos, size);
        const value = decodeValue(r.payload, r.raw, (e) => {
          this.problems.undecoded++;
          this.warn(`offset ${offset}: value not decoded (${e instanceof Error ? e.message : String(e)}); printed as $bytes`);
        });
        emit(
          JSON.stringify({
            offset,
            timestamp: new Date(r.timestamp).toISOString(),
            key: r.key,
            headers: r.headers,
            value,
            ...(r.expires !== Infinity ? { expires: new Date(r.expires).toISOString() } : {}),
          }),
        );
        n++;
        if (progress !== undefined && pos + size - reported > 1 << 20) {
          progress.add(pos + size - reported);
          reported = pos + size;
        }
      });
      progress?.add(Math.max(0, buf.length - reported));
      for (const d of read.damaged) {
        this.problems.skipped++;
        this.warn(`segment ${file}: ${d.next - d.position} damaged byte(s) at byte ${at + d.position} skipped: ${offsets(d.from, d.to)}`);
      }
      this.expected = read.end;
      if (read.tailAt < 0) {
        this.pos = at + buf.length;
        if (limit !== Infinity && read.end < limit && limit > this.next) {
          // a sealed segment that ends before the next one starts lost whole records at its end;
          // recovery records that in quarantine.log once
          const from = read.end;
          if (!readQuarantine(this.dir).some((k) => k.from <= from && k.to >= limit)) {
            this.problems.skipped++;
            this.warn(`segment ${file}: ends at offset ${from}, the next segment starts at ${limit}: ${offsets(from, limit)}`);
          }
          this.expected = limit;
        }
        continue;
      }
      if (limit === Infinity && !final) {
        this.pos = at + read.tailAt; // a write in progress: read again from here
        break;
      }
      this.problems.skipped++;
      const lost = limit === Infinity ? offsets(read.end, read.end) : offsets(read.end, limit);
      this.warn(`segment ${file}: ${buf.length - read.tailAt} byte(s) at byte ${at + read.tailAt} are not a whole record, skipped: ${lost}`);
      this.pos = at + buf.length;
      if (limit !== Infinity) this.expected = limit;
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
  const found = topicDirs(dir).topics.find((t) => t.topic === topic);
  if (found === undefined) {
    io.err(`ringbus: no topic ${JSON.stringify(topic)} in ${dir}\n`);
    return 1;
  }
  const info = { ...inspectTopic(topic, found.dir), lockedBy: readLock(dir) };
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
  const reader = new TopicReader(info.dir, topic, start, io);
  const progress = new Progress(io, `reading ${topic}`, info.bytes);
  // with a live writer, a partial record at the very end is a write in progress, not damage
  const live = info.lockedBy !== undefined && info.lockedBy !== process.pid && alive(info.lockedBy);
  reader.read((line) => io.out(line + '\n'), !o.follow && !live, progress);
  progress.end();
  const status = (): number => (reader.problems.skipped + reader.problems.undecoded > 0 ? 1 : 0);
  if (!o.follow) return status();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (signal?.aborted) {
        clearInterval(timer);
        resolve();
        return;
      }
      reader.read((line) => io.out(line + '\n'), false);
    }, 200);
    signal?.addEventListener('abort', () => {
      clearInterval(timer);
      resolve();
    });
  });
  return status();
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
