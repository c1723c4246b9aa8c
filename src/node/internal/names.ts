/** File and directory names of a storage directory (see docs/storage.md). */
import { join } from 'node:path';

export const LOCK_FILE = 'LOCK';
export const TOPICS_DIR = 'topics';
export const TOPIC_META = 'topic.json';
export const QUARANTINE_FILE = 'quarantine.log';
export const SNAPSHOT_FILE = 'groups.snap';
/** The longest directory name a topic gets: the file-name limit of ext4, XFS, Btrfs, APFS and NTFS. */
export const DIR_NAME_MAX = 255;

/**
 * A topic name as a directory name: `[A-Za-z0-9_-]` and `.` (not first) stay, every other
 * UTF-8 byte becomes `%XX`. Reversible, case-preserving, never `.`/`..`, never a path.
 */
export function topicDirName(topic: string): string {
  let out = '';
  const bytes = Buffer.from(topic, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    const keep = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f || b === 0x2d || (b === 0x2e && i > 0);
    out += keep ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The inverse of {@link topicDirName}. */
export function topicFromDirName(name: string): string {
  return decodeURIComponent(name);
}

export function topicDir(root: string, topic: string): string {
  return join(root, TOPICS_DIR, topicDirName(topic));
}

/** `00000000000000000042.log` */
export function segmentName(base: number, ext: 'log' | 'idx'): string {
  return `${String(base).padStart(20, '0')}.${ext}`;
}

/** The base offset of a segment file name, or -1. */
export function parseSegmentName(name: string): number {
  const m = /^(\d{20})\.log$/.exec(name);
  return m === null ? -1 : Number(m[1]);
}

export function journalName(gen: number): string {
  return `groups.${gen}.log`;
}

/** The generation of a journal file name, or -1. */
export function parseJournalName(name: string): number {
  const m = /^groups\.(\d+)\.log$/.exec(name);
  return m === null ? -1 : Number(m[1]);
}
