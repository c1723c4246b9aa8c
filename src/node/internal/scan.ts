/**
 * Recovery of a topic's segments: validates every record (length, CRC, offset sequence), cuts a
 * torn tail off the last segment, and moves damaged regions in the middle to `quarantine.log`.
 * Never throws on damaged data (only on I/O errors, and on a segment of a format version newer
 * than this code reads: StorageError, nothing changed in it).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { CorruptRecord } from '../../storage.js';
import type { QuarantinedRange } from '../types.js';
import { QUARANTINE_FILE, parseSegmentName, segmentName } from './names.js';
import { StorageError } from '../../errors.js';
import { Batch, checkRecord, FORMAT_VERSION, OLDEST_FORMAT_VERSION, RECORD_FIXED_BODY, RECORD_PREFIX_BYTES, recordOffset, readRecord, type RawRecord, SEGMENT_HEADER_BYTES, SEGMENT_MAGIC, writeSegmentHeader } from './record.js';

/** A sparse index entry every this many bytes of records. */
export const INDEX_EVERY = 4096;
const MIN_RECORD = RECORD_PREFIX_BYTES + RECORD_FIXED_BODY;

/** One segment file, as the log keeps it. */
export interface Segment {
  base: number;
  /** Next offset after its last record (`base` when empty). */
  end: number;
  /** Bytes in the file (header included). */
  size: number;
  /** Sparse index: [relative offset, position] pairs, flattened. */
  index: number[];
  /** Bytes of records since the last index entry. */
  sinceIndex: number;
}

export interface ScanResult {
  segments: Segment[];
  records: number;
  truncatedBytes: number;
  truncatedFrom: number | undefined;
  quarantined: QuarantinedRange[];
  /** The damaged bytes of each quarantined range that had any (copies), for dead-lettering. */
  corrupt: CorruptRecord[];
  headersRepaired: number;
  /** The base of an empty last segment (shorter than its header) that was removed: the tail is at least this. */
  droppedTail: number | undefined;
  /** The format version in the last segment's header (FORMAT_VERSION when it was rewritten, or there is none). */
  lastVersion: number;
}

export function segmentsIn(dir: string): number[] {
  return fs
    .readdirSync(dir)
    .map(parseSegmentName)
    .filter((b) => b >= 0)
    .sort((a, b) => a - b);
}

/** Finds the next whole record after damage at `from`: its position and offset, or undefined. */
function resync(buf: Uint8Array, from: number, end: number, expected: number, limit: number): { pos: number; offset: number } | undefined {
  for (let p = from; p + MIN_RECORD <= end; p++) {
    const off = recordOffset(buf, p);
    // at most one record per MIN_RECORD damaged bytes can have been lost
    if (off < expected || off > expected + Math.ceil((p - from + 1) / MIN_RECORD) || off >= limit) continue;
    if (checkRecord(buf, p, end) > 0) return { pos: p, offset: off };
  }
  return undefined;
}

/**
 * Appends damaged bytes to `quarantine.log`; false when it cannot (a full disk). Bytes that
 * could not be quarantined stay where they are: repair must never need free space to keep data.
 */
function quarantine(dir: string, meta: Record<string, unknown>, bytes: Uint8Array): boolean {
  const head = Buffer.from(JSON.stringify({ ...meta, at: new Date().toISOString() }), 'utf8');
  const out = Buffer.allocUnsafe(8 + head.length + bytes.length);
  out.writeUInt32LE(head.length, 0);
  head.copy(out, 4);
  out.writeUInt32LE(bytes.length, 4 + head.length);
  out.set(bytes, 8 + head.length);
  try {
    fs.appendFileSync(join(dir, QUARANTINE_FILE), out);
    return true;
  } catch {
    return false;
  }
}

/** Removes `path`; false when it cannot. */
function removeBestEffort(path: string): boolean {
  try {
    fs.rmSync(path, { force: true });
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes what an interrupted rewrite or compaction left behind (`*.tmp`): never data, since
 * a temp file only replaces its target by a rename once complete. Needs no free space.
 */
export function removeLeftovers(dir: string): void {
  for (const name of fs.readdirSync(dir)) if (name.endsWith('.tmp')) removeBestEffort(join(dir, name));
}

/** The entries of `quarantine.log` (their headers). */
export function readQuarantine(dir: string): { from: number; to: number; reason: string; segment: number; position: number; bytes: number; at: string }[] {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(join(dir, QUARANTINE_FILE));
  } catch {
    return [];
  }
  const out: { from: number; to: number; reason: string; segment: number; position: number; bytes: number; at: string }[] = [];
  let p = 0;
  while (p + 8 <= buf.length) {
    const hl = buf.readUInt32LE(p);
    if (p + 8 + hl > buf.length) break;
    const dl = buf.readUInt32LE(p + 4 + hl);
    try {
      out.push({ ...(JSON.parse(buf.toString('utf8', p + 4, p + 4 + hl)) as { from: number; to: number; reason: string; segment: number; position: number; at: string }), bytes: dl });
    } catch {
      break;
    }
    p += 8 + hl + dl;
  }
  return out;
}

/** A damaged region that a whole record follows: bytes [position, next), offsets [from, to) lost. */
export interface DamagedRegion {
  position: number;
  next: number;
  from: number;
  to: number;
}

/** What {@link readSegment} found. */
export interface SegmentRead {
  /** The offset after the last whole record (the next expected offset). */
  end: number;
  /** Damaged regions, each followed by a whole record. */
  damaged: DamagedRegion[];
  /** Where bytes with no whole record after them start (a torn or damaged end), or -1. */
  tailAt: number;
}

/**
 * Reads the records of one segment (held in `buf`) from byte `start`, expecting offset
 * `expected` next; offsets must be below `limit` (the next segment's base). Calls `onRecord`
 * for each whole record, skips damage by resynchronising on the next whole record with a
 * plausible offset. Pure: recovery repairs what it reports, and the CLI reads exactly what
 * recovery keeps.
 */
export function readSegment(buf: Uint8Array, limit: number, start: number, expected: number, onRecord: (position: number, size: number, offset: number) => void): SegmentRead {
  const damaged: DamagedRegion[] = [];
  let pos = start;
  while (pos < buf.length) {
    const size = checkRecord(buf, pos, buf.length);
    const offset = size > 0 ? recordOffset(buf, pos) : -1;
    if (size > 0 && offset >= expected && offset < limit) {
      onRecord(pos, size, offset); // a gap in the offsets is not damage
      expected = offset + 1;
      pos += size;
      continue;
    }
    const found = resync(buf, pos + 1, buf.length, expected, limit);
    if (found === undefined) return { end: expected, damaged, tailAt: pos };
    damaged.push({ position: pos, next: found.pos, from: expected, to: found.offset });
    expected = found.offset;
    pos = found.pos;
  }
  return { end: expected, damaged, tailAt: -1 };
}

/**
 * Scans every segment of `dir`, repairing as it goes, and calls `onRecord` for each whole
 * record in offset order. `skipBelow`: whole sealed segments ending at or below it are not
 * decoded (they are deleted by retention right after).
 */
export function scanSegments(dir: string, skipBelow: number, onRecord: (r: RawRecord) => void): ScanResult {
  const bases = segmentsIn(dir);
  const known = readQuarantine(dir);
  const res: ScanResult = { segments: [], records: 0, truncatedBytes: 0, truncatedFrom: undefined, quarantined: [], corrupt: [], headersRepaired: 0, droppedTail: undefined, lastVersion: FORMAT_VERSION };
  removeLeftovers(dir);
  for (let s = 0; s < bases.length; s++) {
    const base = bases[s];
    const last = s === bases.length - 1;
    const limit = last ? Infinity : bases[s + 1];
    const path = join(dir, segmentName(base, 'log'));
    if (!last && limit <= skipBelow) {
      res.segments.push({ base, end: limit, size: fs.statSync(path).size, index: [], sinceIndex: 0 });
      continue;
    }
    const buf = fs.readFileSync(path);
    if (last && buf.length < SEGMENT_HEADER_BYTES && removeBestEffort(path)) {
      // a roll cut short (a full disk) before its header was written: nothing in it; the
      // previous segment, if any, stays the active one, so reopening needs no free space
      res.droppedTail = base;
      continue;
    }
    const seg: Segment = { base, end: base, size: buf.length, index: [], sinceIndex: 0 };
    const magicOk = buf.length >= SEGMENT_HEADER_BYTES && SEGMENT_MAGIC.every((b, i) => buf[i] === b);
    if (magicOk && buf[4] > FORMAT_VERSION) {
      throw new StorageError(`segment ${path} is in format version ${buf[4]}, written by a newer ringbus: this one reads versions ${OLDEST_FORMAT_VERSION} to ${FORMAT_VERSION}`);
    }
    let headerOk = magicOk && buf[4] >= OLDEST_FORMAT_VERSION;
    if (headerOk) headerOk = recordOffsetAt(buf, 8) === base;
    const cuts: [number, number][] = []; // byte ranges to remove
    let tailCut = -1;
    const read = readSegment(buf, limit, SEGMENT_HEADER_BYTES, base, (pos, size, offset) => {
      if (seg.index.length === 0 || seg.sinceIndex >= INDEX_EVERY) {
        seg.index.push(offset - base, pos);
        seg.sinceIndex = 0;
      }
      seg.sinceIndex += size;
      onRecord(readRecord(buf, pos, size));
      res.records++;
    });
    for (const d of read.damaged) {
      if (quarantine(dir, { segment: base, position: d.position, from: d.from, to: d.to, reason: 'corrupt' }, buf.subarray(d.position, d.next))) cuts.push([d.position, d.next]);
      res.quarantined.push({ segment: base, position: d.position, bytes: d.next - d.position, from: d.from, to: d.to });
      if (d.to > d.from) res.corrupt.push({ offset: d.from, end: d.to, bytes: new Uint8Array(buf.subarray(d.position, d.next)), detail: `bad checksum or length in segment ${base} at byte ${d.position}` });
    }
    let expected = read.end;
    if (read.tailAt >= 0) {
      const pos = read.tailAt;
      let kept: boolean;
      if (last) {
        kept = quarantine(dir, { segment: base, position: pos, from: expected, to: expected, reason: 'torn-tail' }, buf.subarray(pos));
        if (kept) {
          res.truncatedBytes += buf.length - pos;
          res.truncatedFrom = expected;
        }
      } else {
        kept = quarantine(dir, { segment: base, position: pos, from: expected, to: limit, reason: 'corrupt' }, buf.subarray(pos));
        res.quarantined.push({ segment: base, position: pos, bytes: buf.length - pos, from: expected, to: limit });
        res.corrupt.push({ offset: expected, end: limit, bytes: new Uint8Array(buf.subarray(pos)), detail: `bad checksum or length in segment ${base} at byte ${pos}` });
        expected = limit;
      }
      // bytes that could not be quarantined are not cut (the next open finds them again)
      if (kept) tailCut = pos;
    }
    if (!last && expected < limit && tailCut < 0) {
      // a sealed segment that ends before the next one starts lost whole records at its end
      // (the writer never leaves a gap: it starts a new segment at the next offset); reported once
      const from = expected;
      if (!known.some((k) => k.from <= from && k.to >= limit)) {
        quarantine(dir, { segment: base, position: buf.length, from, to: limit, reason: 'missing' }, new Uint8Array(0));
        res.quarantined.push({ segment: base, position: buf.length, bytes: 0, from, to: limit });
      }
      expected = limit;
    }
    seg.end = expected;
    const keepEnd = tailCut >= 0 ? tailCut : buf.length;
    if (last) res.lastVersion = headerOk ? buf[4] : FORMAT_VERSION;
    if ((cuts.length > 0 || !headerOk) && rewrite(path, buf, base, cuts, keepEnd, seg)) {
      if (!headerOk) res.headersRepaired++;
      if (last) res.lastVersion = FORMAT_VERSION; // rewritten with this version's header
    } else if (tailCut >= 0) {
      try {
        fs.truncateSync(path, tailCut);
        seg.size = tailCut;
      } catch {
        // the torn bytes stay (quarantined already): the next open cuts them
      }
    }
    res.segments.push(seg);
  }
  return res;
}

/**
 * Rewrites a segment without the `cuts` and up to `keepEnd`, with a good header (temp file,
 * fsync, rename), and rebuilds `seg`'s index for the new positions. False, with the segment
 * untouched, when it cannot (a full disk): its records were read all the same.
 */
function rewrite(path: string, buf: Buffer, base: number, cuts: [number, number][], keepEnd: number, seg: Segment): boolean {
  const b = new Batch(Math.max(SEGMENT_HEADER_BYTES, keepEnd));
  writeSegmentHeader(b, base);
  let from = SEGMENT_HEADER_BYTES;
  for (const [a, z] of cuts) {
    if (a > from) {
      b.ensure(a - from);
      buf.copy(b.buf, b.used, from, a);
      b.used += a - from;
    }
    from = z;
  }
  if (keepEnd > from) {
    b.ensure(keepEnd - from);
    buf.copy(b.buf, b.used, from, keepEnd);
    b.used += keepEnd - from;
  }
  const tmp = `${path}.tmp`;
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, b.buf, 0, b.used);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path);
  } catch {
    removeBestEffort(tmp);
    return false;
  }
  // positions moved: rebuild the index from the rewritten file
  seg.size = b.used;
  seg.index = [];
  seg.sinceIndex = 0;
  let p = SEGMENT_HEADER_BYTES;
  while (p < b.used) {
    const size = checkRecord(b.buf, p, b.used);
    if (size <= 0) break;
    if (seg.index.length === 0 || seg.sinceIndex >= INDEX_EVERY) {
      seg.index.push(recordOffset(b.buf, p) - base, p);
      seg.sinceIndex = 0;
    }
    seg.sinceIndex += size;
    p += size;
  }
  return true;
}

function recordOffsetAt(buf: Buffer, at: number): number {
  return buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * 0x1_0000_0000;
}

/** Writes a segment's sparse index file (`<base>.idx`): header `RBIX`, version, base, then u32 pairs. */
export function writeIndex(dir: string, seg: Segment): void {
  const buf = Buffer.allocUnsafe(16 + seg.index.length * 4);
  buf.write('RBIX', 0, 'latin1');
  buf[4] = FORMAT_VERSION;
  buf[5] = buf[6] = buf[7] = 0;
  buf.writeUInt32LE(seg.base % 0x1_0000_0000, 8);
  buf.writeUInt32LE(Math.floor(seg.base / 0x1_0000_0000), 12);
  for (let i = 0; i < seg.index.length; i++) buf.writeUInt32LE(seg.index[i] >>> 0, 16 + i * 4);
  try {
    fs.writeFileSync(join(dir, segmentName(seg.base, 'idx')), buf);
  } catch {
    // the index is derived data: rebuilt on the next open
  }
}

/** Reads a segment's index file: [relative offset, position] pairs flattened, or undefined. */
export function readIndex(dir: string, base: number): number[] | undefined {
  try {
    const buf = fs.readFileSync(join(dir, segmentName(base, 'idx')));
    if (buf.length < 16 || buf.toString('latin1', 0, 4) !== 'RBIX') return undefined;
    const out: number[] = [];
    for (let p = 16; p + 4 <= buf.length; p += 4) out.push(buf.readUInt32LE(p));
    return out;
  } catch {
    return undefined;
  }
}
