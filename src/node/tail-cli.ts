/**
 * `ringbus tail <dir> <topic> [--from earliest|latest|N] [--group g] [--follow]`: messages as
 * JSON lines, read as recovery would; damage skipped and named on stderr (exit status 1).
 *
 * @module
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { decodeFrame } from '../codec/frame.js';
import { inspectTopic, readGroups, readLock, topicDirs } from './inspect.js';
import { liveWriter, offsets, Progress, type Io } from './internal/cli-io.js';
import { segmentName } from './internal/names.js';
import { readRecord, SEGMENT_HEADER_BYTES } from './internal/record.js';
import { readQuarantine, readSegment, segmentsIn } from './internal/scan.js';

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

/** Runs `tail` with its arguments; resolves the exit status once done (`--follow`: once `signal` aborts). */
export async function tailCommand(args: string[], io: Io, usage: string, signal?: AbortSignal): Promise<number> {
  const parsed = parseTail(args);
  if (typeof parsed === 'string') {
    io.err(`ringbus: ${parsed}\n${usage}\n`);
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
  const live = liveWriter(info);
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
