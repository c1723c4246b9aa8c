/**
 * Read-only inspection of a storage directory (what `ringbus inspect` prints). Safe while
 * another process owns the directory: it takes no lock and writes nothing.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { GroupJournal } from './internal/groups.js';
import { segmentName, TOPIC_META, TOPICS_DIR, topicFromDirName } from './internal/names.js';
import { checkRecord, recordOffset, SEGMENT_HEADER_BYTES } from './internal/record.js';
import { segmentsIn } from './internal/scan.js';

/**
 * One segment file.
 *
 * @example
 * ```ts
 * const s: SegmentInspection = { file: '00000000000000000000.log', base: 0, bytes: 4096, records: 12, first: 0, end: 12, damagedBytes: 0 };
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
 * What {@link inspectStorage} found.
 *
 * @example
 * ```ts
 * const { lockedBy, topics } = inspectStorage('./data');
 * ```
 */
export interface StorageInspection {
  readonly dir: string;
  /** The pid in the lock file, if any (it may be stale). */
  readonly lockedBy: number | undefined;
  readonly topics: readonly TopicInspection[];
}

function fileSize(path: string): number {
  try {
    return fs.statSync(path).size;
  } catch {
    return 0;
  }
}

/** Scans one segment: whole records and where they end. `onBytes` reports progress. */
export function inspectSegment(dir: string, base: number, onBytes?: (n: number) => void): SegmentInspection {
  const file = segmentName(base, 'log');
  const buf = fs.readFileSync(join(dir, file));
  let pos = SEGMENT_HEADER_BYTES;
  let records = 0;
  let first = base;
  let end = base;
  let lastReport = pos;
  while (pos < buf.length) {
    const size = checkRecord(buf, pos, buf.length);
    if (size <= 0) break;
    const off = recordOffset(buf, pos);
    if (records === 0) first = off;
    end = off + 1;
    records++;
    pos += size;
    if (onBytes !== undefined && pos - lastReport > 1 << 20) {
      onBytes(pos - lastReport);
      lastReport = pos;
    }
  }
  onBytes?.(buf.length - lastReport);
  return { file, base, bytes: buf.length, records, first, end, damagedBytes: Math.max(0, buf.length - pos) };
}

/** The topics of a storage directory, by topic directory. */
export function topicDirs(root: string): { topic: string; dir: string }[] {
  const base = join(root, TOPICS_DIR);
  let names: string[];
  try {
    names = fs.readdirSync(base).sort();
  } catch {
    return [];
  }
  return names.map((n) => {
    const dir = join(base, n);
    let topic = topicFromDirName(n);
    try {
      topic = (JSON.parse(fs.readFileSync(join(dir, TOPIC_META), 'utf8')) as { topic: string }).topic;
    } catch {
      // keep the decoded directory name
    }
    return { topic, dir };
  });
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
  let lockedBy: number | undefined;
  try {
    const pid = Number.parseInt(fs.readFileSync(join(dir, 'LOCK'), 'utf8'), 10);
    if (Number.isInteger(pid)) lockedBy = pid;
  } catch {
    // not locked
  }
  const topics: TopicInspection[] = [];
  for (const { topic, dir: tdir } of topicDirs(dir)) {
    const segments = segmentsIn(tdir).map((b) => inspectSegment(tdir, b, onBytes));
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
    topics.push({
      topic,
      dir: tdir,
      head: Math.min(head, tail),
      tail,
      bytes: segments.reduce((n, s) => n + s.bytes, 0),
      segments,
      groups,
      quarantineBytes: fileSize(join(tdir, 'quarantine.log')),
    });
  }
  return { dir, lockedBy, topics };
}
