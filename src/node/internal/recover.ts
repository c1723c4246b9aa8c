/**
 * Recovery of one topic's directory: the group journal first (it holds the retained head), then
 * every segment from that head, decoded into the messages the topic loads. A fresh directory is
 * created with its meta file, fsynced up to the storage root, so a crash cannot lose the topic.
 */
import * as fs from 'node:fs';
import { dirname, join } from 'node:path';
import type { Framer } from '../../codec/frame.js';
import type { RecoveredTopic, StoredMessage } from '../../storage.js';
import type { RecoveryReport } from '../types.js';
import { fsyncDir, GroupJournal } from './groups.js';
import { TOPIC_META } from './names.js';
import type { FileStorageSettings } from './options.js';
import { scanSegments, type Segment, segmentsIn } from './scan.js';

/** What a topic's directory holds, as recovery found it. */
export interface Recovered {
  readonly journal: GroupJournal;
  /** The oldest retained offset. */
  readonly head: number;
  /** The segments found, the last one to append to unless it is of an older format. */
  readonly segments: Segment[];
  /** The format version of the last segment's header. */
  readonly lastVersion: number;
  readonly topic: RecoveredTopic & { readonly messages: StoredMessage[] };
  /** The report, but for the segments and the duration (the store adds them once open). */
  readonly report: Omit<RecoveryReport, 'segments' | 'durationMs'>;
}

/** Opens (or creates) `dir` and reads what it holds. Records the framer cannot decode are reported, not loaded. */
export function recoverTopic(topic: string, dir: string, s: FileStorageSettings, framer: Framer<unknown>): Recovered {
  const fresh = !fs.existsSync(dir);
  fs.mkdirSync(dir, { recursive: true });
  if (fresh) {
    fs.writeFileSync(join(dir, TOPIC_META), JSON.stringify({ format: 1, topic }) + '\n');
    if (s.fsync !== 'never') {
      fsyncDir(dir);
      fsyncDir(dirname(dir));
      fsyncDir(dirname(dirname(dir)));
    }
  }
  const journal = new GroupJournal(dir, s.fsync !== 'never');
  const rg = journal.recover();
  const bases = segmentsIn(dir);
  const head = Math.max(rg.head, bases.length > 0 ? bases[0] : 0);
  const messages: StoredMessage[] = [];
  const undecodable: number[] = [];
  const scan = scanSegments(dir, head, (r) => {
    if (r.offset < head) return;
    let value: unknown;
    if (r.raw) value = new Uint8Array(r.payload); // a copy: the file buffer is not kept alive
    else {
      try {
        value = framer.decode(new Uint8Array(r.payload));
      } catch {
        undecodable.push(r.offset);
        return;
      }
    }
    const m = { offset: r.offset, value, key: r.key, headers: r.headers, timestamp: r.timestamp, expires: r.expires };
    messages.push(r.due === 0 && r.priority < 0 ? m : { ...m, due: r.due === 0 ? undefined : r.due, priority: r.priority < 0 ? undefined : r.priority });
  });
  const segments = scan.segments;
  let tail = segments.length > 0 ? segments[segments.length - 1].end : head;
  if (tail < head) tail = head;
  if (scan.droppedTail !== undefined && tail < scan.droppedTail) tail = scan.droppedTail;
  const groups = journal.stored();
  return {
    journal,
    head,
    segments,
    lastVersion: scan.lastVersion,
    topic: scan.corrupt.length === 0 ? { tail, messages, groups } : { tail, messages, groups, corrupt: scan.corrupt },
    report: {
      topic,
      records: scan.records,
      retained: messages.length,
      tail,
      truncatedBytes: scan.truncatedBytes,
      truncatedFrom: scan.truncatedFrom,
      quarantined: scan.quarantined,
      headersRepaired: scan.headersRepaired,
      undecodable,
      groupBatchesSkipped: rg.batchesSkipped,
      groupBytesSkipped: rg.bytesSkipped,
    },
  };
}
