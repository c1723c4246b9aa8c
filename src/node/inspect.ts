/**
 * Read-only inspection of a storage directory (what `ringbus inspect` prints). Safe while
 * another process owns the directory: it takes no lock and writes nothing.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { GroupJournal } from './internal/groups.js';
import { segmentName, TOPICS_DIR, topicDirName, topicFromDirName } from './internal/names.js';
import { SEGMENT_HEADER_BYTES } from './internal/record.js';
import { readQuarantine, readSegment, segmentsIn } from './internal/scan.js';

/**
 * Bytes of a segment that are not whole records, and the offsets they held.
 *
 * @example
 * ```ts
 * const d: DamagedRange = { position: 4000, bytes: 96, from: 70, to: 71, tail: false };
 * ```
 */
export interface DamagedRange {
  /** Byte position in the segment file. */
  readonly position: number;
  readonly bytes: number;
  /** Offsets lost: `from` ≤ offset < `to` (`from === to`: no whole record lost). */
  readonly from: number;
  readonly to: number;
  /** True for bytes at the end of the last segment with nothing whole after them: a torn write, or a write in progress. */
  readonly tail: boolean;
}

/**
 * One segment file.
 *
 * @example
 * ```ts
 * const s: SegmentInspection = { file: '00000000000000000000.log', base: 0, bytes: 4096, records: 12, first: 0, end: 12, damagedBytes: 0, damaged: [] };
 * ```
 */
export interface SegmentInspection {
  readonly file: string;
  readonly base: number;
  readonly bytes: number;
  /** Whole records. */
  readonly records: number;
  /** First offset (`base` when empty). */
  readonly first: number;
  /** One past the last offset. */
  readonly end: number;
  /** Bytes that are not whole records (a torn tail, or damage the next open will quarantine). */
  readonly damagedBytes: number;
  /** Where those bytes are and which offsets they held (what the next open quarantines or cuts). */
  readonly damaged: readonly DamagedRange[];
}

/**
 * A durable group of a topic.
 *
 * @example
 * ```ts
 * const g: GroupInspection = { name: 'billing', committed: 10, lag: 2, unsettledDeliveries: 1 };
 * ```
 */
export interface GroupInspection {
  readonly name: string;
  readonly committed: number;
  /** `tail - committed`. */
  readonly lag: number;
  /** Offsets delivered and not settled (they come back after a restart). */
  readonly unsettledDeliveries: number;
}

/**
 * One topic of a storage directory.
 *
 * @example
 * ```ts
 * const t: TopicInspection = inspectStorage(dir).topics[0];
 * console.log(t.topic, t.head, t.tail, t.bytes);
 * ```
 */
export interface TopicInspection {
  readonly topic: string;
  readonly dir: string;
  /** Oldest retained offset. */
  readonly head: number;
  /** Next offset. */
  readonly tail: number;
  readonly bytes: number;
  readonly segments: readonly SegmentInspection[];
  readonly groups: readonly GroupInspection[];
  /** Bytes in `quarantine.log`. */
  readonly quarantineBytes: number;
}

/**
 * An entry of a storage directory that was not read, and why.
 *
 * @example
 * ```ts
 * const e: SkippedEntry = { path: '/data/topics/.DS_Store', reason: 'not a directory' };
 * ```
 */
export interface SkippedEntry {
  readonly path: string;
  readonly reason: string;
}

/**
 * What {@link inspectStorage} found.
 *
 * @example
 * ```ts
 * const { lockedBy, topics, skipped } = inspectStorage('./data');
 * ```
 */
export interface StorageInspection {
  readonly dir: string;
  /** The pid in the lock file, if any (it may be stale). */
  readonly lockedBy: number | undefined;
  readonly topics: readonly TopicInspection[];
  /** Entries of `topics/` that are not topics (stray files, names no topic encodes to), and topics that could not be read. */
  readonly skipped: readonly SkippedEntry[];
}

function fileSize(path: string): number {
  try {
    return fs.statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * Scans one segment as recovery would: whole records (resynchronising past damage) and the
 * damaged ranges. `limit` is the next segment's base (`Infinity` for the last). `onBytes`
 * reports progress; `known` are the topic's quarantine entries (losses already recorded).
 */
export function inspectSegment(dir: string, base: number, limit = Infinity, onBytes?: (n: number) => void, known = readQuarantine(dir)): SegmentInspection {
  const file = segmentName(base, 'log');
  const buf = fs.readFileSync(join(dir, file));
  let records = 0;
  let first = base;
  let end = base;
  let lastReport = 0;
  const read = readSegment(buf, limit, SEGMENT_HEADER_BYTES, base, (pos, size, offset) => {
    if (records === 0) first = offset;
    end = offset + 1;
    records++;
    if (onBytes !== undefined && pos + size - lastReport > 1 << 20) {
      onBytes(pos + size - lastReport);
      lastReport = pos + size;
    }
  });
  onBytes?.(buf.length - lastReport);
  const damaged: DamagedRange[] = read.damaged.map((d) => ({ position: d.position, bytes: d.next - d.position, from: d.from, to: d.to, tail: false }));
  if (read.tailAt >= 0) {
    const last = limit === Infinity;
    damaged.push({ position: read.tailAt, bytes: buf.length - read.tailAt, from: read.end, to: last ? read.end : limit, tail: last });
  } else if (read.end < limit && limit !== Infinity && !known.some((k) => k.from <= read.end && k.to >= limit)) {
    // a sealed segment that ends before the next one starts lost whole records at its end
    damaged.push({ position: buf.length, bytes: 0, from: read.end, to: limit, tail: false });
  }
  return { file, base, bytes: buf.length, records, first, end, damagedBytes: damaged.reduce((n, d) => n + d.bytes, 0), damaged };
}

/**
 * The topics of a storage directory, by topic directory: every entry of `topics/` that is a
 * directory whose name is the encoding of a topic name (what `fileStorage` would open).
 * Anything else is listed in `skipped` with the reason.
 */
export function topicDirs(root: string): { topics: { topic: string; dir: string }[]; skipped: SkippedEntry[] } {
  const base = join(root, TOPICS_DIR);
  const topics: { topic: string; dir: string }[] = [];
  const skipped: SkippedEntry[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(base, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') skipped.push({ path: base, reason: `cannot list it: ${(e as Error).message}` });
    return { topics, skipped };
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const dir = join(base, entry.name);
    if (!entry.isDirectory()) {
      skipped.push({ path: dir, reason: 'not a directory' });
      continue;
    }
    let topic: string;
    let canonical: string;
    try {
      topic = topicFromDirName(entry.name);
      canonical = topicDirName(topic);
    } catch {
      skipped.push({ path: dir, reason: 'not a topic: the name does not decode' });
      continue;
    }
    if (canonical !== entry.name) {
      skipped.push({ path: dir, reason: `not a topic: topic ${JSON.stringify(topic)} is stored under ${JSON.stringify(canonical)}` });
      continue;
    }
    topics.push({ topic, dir });
  }
  return { topics, skipped };
}

/** The pid in the storage's LOCK file, if any (it may be stale). */
export function readLock(dir: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(join(dir, 'LOCK'), 'utf8'), 10);
    return Number.isInteger(pid) ? pid : undefined;
  } catch {
    return undefined; // not locked
  }
}

/** Reads a topic's groups without writing anything. */
export function readGroups(dir: string): { head: number; groups: Map<string, { committed: number; deliveries: Map<number, number> }> } {
  const j = new GroupJournal(dir, false);
  const r = j.recover(true);
  return { head: r.head, groups: r.groups };
}

/**
 * Reads a storage directory (read-only, no lock): its topics, their segments, offsets and
 * sizes, and each durable group's committed offset and lag.
 *
 * @param dir - A directory written by {@link fileStorage}.
 * @param onBytes - Called with bytes scanned, for a progress line on large directories.
 * @example
 * ```ts
 * for (const t of inspectStorage('./data').topics) {
 *   console.log(t.topic, `${t.head}..${t.tail}`, t.groups.map((g) => `${g.name} lag ${g.lag}`));
 * }
 * ```
 */
export function inspectStorage(dir: string, onBytes?: (n: number) => void): StorageInspection {
  const lockedBy = readLock(dir);
  const topics: TopicInspection[] = [];
  const { topics: found, skipped } = topicDirs(dir);
  for (const { topic, dir: tdir } of found) {
    let t: TopicInspection;
    try {
      t = inspectTopic(topic, tdir, onBytes);
    } catch (e) {
      skipped.push({ path: tdir, reason: `cannot read topic ${JSON.stringify(topic)}: ${(e as Error).message}` });
      continue;
    }
    topics.push(t);
  }
  return { dir, lockedBy, topics, skipped };
}

/** Reads one topic directory (read-only): segments as recovery would read them, and its groups. */
export function inspectTopic(topic: string, tdir: string, onBytes?: (n: number) => void): TopicInspection {
  const bases = segmentsIn(tdir);
  const known = readQuarantine(tdir);
  const segments = bases.map((b, i) => inspectSegment(tdir, b, i + 1 < bases.length ? bases[i + 1] : Infinity, onBytes, known));
  const g = readGroups(tdir);
  const tail = segments.length > 0 ? segments[segments.length - 1].end : g.head;
  const firstWithRecords = segments.find((s) => s.records > 0);
  const head = Math.max(g.head, firstWithRecords?.first ?? tail);
  const groups: GroupInspection[] = [...g.groups].map(([name, s]) => ({
    name,
    committed: s.committed,
    lag: Math.max(0, tail - s.committed),
    unsettledDeliveries: s.deliveries.size,
  }));
  return {
    topic,
    dir: tdir,
    head: Math.min(head, tail),
    tail,
    bytes: segments.reduce((n, s) => n + s.bytes, 0),
    segments,
    groups,
    quarantineBytes: fileSize(join(tdir, 'quarantine.log')),
  };

}
