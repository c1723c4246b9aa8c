/**
 * Durable group state of one topic: an append-only journal of group events (`groups.<gen>.log`,
 * CRC-framed batches) and a snapshot (`groups.snap`, written to a temp file, fsynced, renamed,
 * directory fsynced) that the journal is compacted into once it grows.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../errors.js';
import { describe, nameProblem } from '../../internal/validate.js';
import type { GroupEvent, StoredGroup } from '../../storage.js';
import { crc32 } from './crc32.js';
import { journalName, parseJournalName, SNAPSHOT_FILE } from './names.js';
import { Batch, readU32 } from './record.js';

const KIND = { create: 1, delete: 2, deliver: 3, settle: 4, commit: 5, seek: 6, head: 7 } as const;
const EVENT_FIXED = 1 + 8 + 4 + 2;
/** Journal bytes that trigger compaction into a snapshot. */
export const COMPACT_BYTES = 4 * 1024 * 1024;

export interface GroupState {
  committed: number;
  settled: Set<number>;
  deliveries: Map<number, number>;
}

/** What the journal and snapshot recovered. */
export interface RecoveredGroups {
  head: number;
  groups: Map<string, GroupState>;
  batchesSkipped: number;
}

function advance(g: GroupState): void {
  while (g.settled.delete(g.committed)) {
    g.deliveries.delete(g.committed);
    g.committed++;
  }
}

/** Applies one event to `groups` (the same rules as the journal reference storage). */
function apply(groups: Map<string, GroupState>, kind: number, name: string, offset: number, count: number): void {
  if (kind === KIND.create) {
    groups.set(name, { committed: offset, settled: new Set(), deliveries: new Map() });
    return;
  }
  if (kind === KIND.delete) {
    groups.delete(name);
    return;
  }
  const g = groups.get(name);
  if (g === undefined) return;
  if (kind === KIND.deliver) {
    if (offset >= g.committed) g.deliveries.set(offset, count);
  } else if (kind === KIND.settle) {
    if (offset < g.committed) return;
    g.settled.add(offset);
    advance(g);
  } else if (kind === KIND.commit) {
    clamp(g, offset);
  } else if (kind === KIND.seek) {
    g.committed = offset;
    g.settled.clear();
    g.deliveries.clear();
  }
}

/** Everything below `to` is settled for `g`. */
function clamp(g: GroupState, to: number): void {
  if (to <= g.committed) return;
  for (const o of g.deliveries.keys()) if (o < to) g.deliveries.delete(o);
  for (const o of g.settled) if (o < to) g.settled.delete(o);
  g.committed = to;
  advance(g);
}

export class GroupJournal {
  readonly groups = new Map<string, GroupState>();
  head = 0;
  private gen = 0;
  private fd = -1;
  private bytes = 0;
  private readonly batch = new Batch(64 * 1024);
  private readonly names = new Map<string, Buffer>();
  /** Unsynced bytes were written. */
  dirty = false;

  constructor(
    private readonly dir: string,
    private readonly fsyncOn: boolean,
  ) {}

  /** Loads the snapshot and replays the journals after it; truncates a torn journal tail. */
  recover(readOnly = false): RecoveredGroups {
    let skipped = 0;
    let snapGen = -1;
    try {
      const buf = fs.readFileSync(join(this.dir, SNAPSHOT_FILE));
      const len = readU32(buf, 0);
      if (len === buf.length - 8 && crc32(buf, 8, buf.length) === readU32(buf, 4)) {
        const snap = JSON.parse(buf.subarray(8).toString('utf8')) as { gen: number; head: number; groups: [string, number, number[], [number, number][]][] };
        snapGen = snap.gen;
        this.head = snap.head;
        for (const [name, committed, settled, deliveries] of snap.groups) {
          this.groups.set(name, { committed, settled: new Set(settled), deliveries: new Map(deliveries) });
        }
      } else skipped++;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') skipped++;
    }
    const gens = fs
      .readdirSync(this.dir)
      .map(parseJournalName)
      .filter((g) => g >= 0)
      .sort((a, b) => a - b);
    let last = snapGen + 1;
    for (const gen of gens) {
      const path = join(this.dir, journalName(gen));
      if (gen <= snapGen) {
        if (!readOnly) fs.rmSync(path, { force: true }); // compacted into the snapshot
        continue;
      }
      let buf: Buffer;
      try {
        buf = fs.readFileSync(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // compacted meanwhile (a reader)
        throw e;
      }
      let pos = 0;
      while (pos + 8 <= buf.length) {
        const len = readU32(buf, pos);
        if (len > buf.length - pos - 8) break; // torn tail
        if (crc32(buf, pos + 8, pos + 8 + len) !== readU32(buf, pos + 4)) {
          skipped++;
          pos += 8 + len;
          continue;
        }
        this.replay(buf, pos + 8, pos + 8 + len);
        pos += 8 + len;
      }
      if (pos < buf.length && !readOnly) fs.truncateSync(path, pos);
      last = gen;
    }
    this.gen = last;
    if (readOnly) return { head: this.head, groups: this.groups, batchesSkipped: skipped };
    const path = join(this.dir, journalName(this.gen));
    this.fd = fs.openSync(path, 'a');
    this.bytes = fs.fstatSync(this.fd).size;
    return { head: this.head, groups: this.groups, batchesSkipped: skipped };
  }

  private replay(buf: Buffer, at: number, end: number): void {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    while (at + EVENT_FIXED <= end) {
      const kind = buf[at];
      const offset = view.getFloat64(at + 1, true);
      const count = readU32(buf, at + 9);
      const nameLen = buf[at + 13] | (buf[at + 14] << 8);
      const name = buf.toString('utf8', at + EVENT_FIXED, at + EVENT_FIXED + nameLen);
      at += EVENT_FIXED + nameLen;
      if (kind === KIND.head) this.applyHead(offset);
      else apply(this.groups, kind, name, offset, count);
    }
  }

  /** Messages below `head` are gone: every group has settled them. */
  private applyHead(head: number): void {
    if (head <= this.head) return;
    this.head = head;
    for (const g of this.groups.values()) clamp(g, head);
  }

  private encode(kind: number, name: string, offset: number, count: number): void {
    let n = this.names.get(name);
    if (n === undefined) {
      n = Buffer.from(name, 'utf8');
      if (n.length > 0xffff || nameProblem(name) !== undefined) throw new ConfigError('group', `group name ${describe(name)} cannot be journaled: a name must be well-formed Unicode of at most 65535 UTF-8 bytes`);
      if (this.names.size > 10_000) this.names.clear();
      this.names.set(name, n);
    }
    const b = this.batch;
    if (b.used === 0) b.used = 8; // frame prefix, filled at flush
    b.ensure(EVENT_FIXED + n.length);
    const buf = b.buf;
    const p = b.used;
    buf[p] = kind;
    buf.writeDoubleLE(offset, p + 1);
    buf.writeUInt32LE(count >>> 0, p + 9);
    buf[p + 13] = n.length & 0xff;
    buf[p + 14] = n.length >>> 8;
    buf.set(n, p + EVENT_FIXED);
    b.used = p + EVENT_FIXED + n.length;
  }

  /** Journals (buffers) one event and applies it to the state. */
  event(e: GroupEvent): void {
    const kind = KIND[e.kind];
    const offset = e.kind === 'delete' ? 0 : e.offset;
    const count = e.kind === 'deliver' ? e.count : 0;
    this.encode(kind, e.group, offset, count);
    apply(this.groups, kind, e.group, offset, count);
  }

  /** Journals a new head (messages below it were evicted). */
  setHead(head: number): void {
    if (head <= this.head) return;
    this.encode(KIND.head, '', head, 0);
    this.applyHead(head);
  }

  get pending(): boolean {
    return this.batch.used > 0;
  }

  /** Writes the buffered events as one CRC-framed batch (synchronous; throws the fs error). */
  write(): void {
    const b = this.batch;
    if (b.used === 0) return;
    const buf = b.buf;
    buf.writeUInt32LE(b.used - 8, 0);
    buf.writeUInt32LE(crc32(buf, 8, b.used), 4);
    let done = 0;
    try {
      while (done < b.used) done += fs.writeSync(this.fd, buf, done, b.used - done);
    } catch (e) {
      if (done > 0) fs.ftruncateSync(this.fd, this.bytes);
      throw e;
    }
    this.bytes += b.used;
    b.reset(1 << 20);
    this.dirty = true;
    if (this.bytes > COMPACT_BYTES) this.compact();
  }

  /** The journal's fd, for an fsync. */
  get journalFd(): number {
    return this.fd;
  }

  /** A snapshot of the state replaces the journal (atomic rename; the old journal is deleted after). */
  compact(): void {
    const groups: [string, number, number[], [number, number][]][] = [];
    for (const [name, g] of this.groups) groups.push([name, g.committed, [...g.settled], [...g.deliveries]]);
    const body = Buffer.from(JSON.stringify({ gen: this.gen, head: this.head, groups }), 'utf8');
    const out = Buffer.allocUnsafe(8 + body.length);
    out.writeUInt32LE(body.length, 0);
    out.writeUInt32LE(crc32(body), 4);
    body.copy(out, 8);
    const tmp = join(this.dir, `${SNAPSHOT_FILE}.tmp`);
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, out);
      if (this.fsyncOn) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, join(this.dir, SNAPSHOT_FILE));
    if (this.fsyncOn) fsyncDir(this.dir);
    const old = this.fd;
    const oldPath = join(this.dir, journalName(this.gen));
    this.gen++;
    this.fd = fs.openSync(join(this.dir, journalName(this.gen)), 'a');
    this.bytes = 0;
    this.dirty = false;
    fs.closeSync(old);
    fs.rmSync(oldPath, { force: true });
  }

  /** The recovered groups, as the engine wants them. */
  stored(): StoredGroup[] {
    return [...this.groups].map(([name, g]) => ({ name, committed: g.committed, settled: [...g.settled].sort((a, b) => a - b), deliveries: new Map(g.deliveries) }));
  }

  /** Lowest committed offset of all groups (`Infinity` when none). */
  minCommitted(): number {
    let min = Infinity;
    for (const g of this.groups.values()) if (g.committed < min) min = g.committed;
    return min;
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/** fsync of a directory (its entries: a created, renamed or deleted file). */
export function fsyncDir(dir: string): void {
  let fd = -1;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // some platforms cannot fsync a directory
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}
