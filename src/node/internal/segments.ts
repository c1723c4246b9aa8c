/**
 * A topic's segment files: the active segment records are appended to (through one write
 * buffer), sealed segments whose fds stay open until their fdatasync, and retention by whole
 * segments. When each write reaches the disk is the store's business (store.ts).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { StorageError } from '../../errors.js';
import { segmentName } from './names.js';
import { Batch, FORMAT_VERSION, writeRecord, writeSegmentHeader } from './record.js';
import { INDEX_EVERY, type Segment, writeIndex } from './scan.js';
import type { StoredMessage } from '../../storage.js';

/** An fd of a directory, for fsyncs of its entries; -1 where directories cannot be opened (Windows). */
function openDir(dir: string): number {
  try {
    return fs.openSync(dir, 'r');
  } catch {
    return -1;
  }
}

export class SegmentFiles {
  active: Segment;
  /** The active segment's fd (-1 while none is open). */
  fd = -1;
  readonly dirFd: number;
  /** Sealed segments' fds, closed once fsynced. */
  sealed: number[] = [];
  /** A segment was created or deleted: the directory needs an fsync. */
  dirDirty = false;
  bytes = 0;
  /** Records encoded and not yet written. */
  readonly batch = new Batch();
  records = 0;
  writes = 0;

  /**
   * Opens the last of `segments` (what recovery found) for appending, or creates the first at
   * `tail`; `keepSealed`: sealed fds stay open for their fdatasync. `fail` turns an error into
   * the store's StorageError.
   */
  constructor(
    private readonly dir: string,
    readonly list: Segment[],
    tail: number,
    lastVersion: number,
    private readonly keepSealed: boolean,
    private readonly fail: (e: unknown, what: string) => StorageError,
  ) {
    for (const seg of list) this.bytes += seg.size;
    this.dirFd = openDir(dir);
    const last = list.length === 0 ? undefined : list[list.length - 1];
    if (last === undefined || lastVersion < FORMAT_VERSION) {
      // a segment of an older format takes no more records (its header would not describe
      // them): the next ones go to a new segment, written in this version
      if (last !== undefined && last.end === last.base) {
        fs.rmSync(join(dir, segmentName(last.base, 'log')), { force: true }); // empty: replaced
        list.pop();
        this.bytes -= last.size;
      } else for (const seg of list) if (seg.index.length > 0) writeIndex(dir, seg);
      try {
        this.active = this.create(tail);
      } catch (e) {
        // reading what is on disk needs no free space: the topic opens, and appends fail
        fail(e, 'creating a segment');
        this.active = { base: tail, end: tail, size: 0, index: [], sinceIndex: 0 };
      }
    } else {
      this.active = list[list.length - 1];
      this.fd = fs.openSync(join(dir, segmentName(this.active.base, 'log')), 'a');
      for (const seg of list) if (seg.index.length > 0) writeIndex(dir, seg);
    }
  }

  /** True when `m` (with a payload of `bytes`) must start a new segment: not the next offset, or the active one is full. */
  mustRoll(offset: number, bytes: number, segmentBytes: number): boolean {
    const seg = this.active;
    if (seg.end === seg.base) return offset !== seg.base;
    return offset !== seg.end || seg.size + this.batch.used + bytes + 64 > segmentBytes;
  }

  /** Encodes `m` into the write buffer, at the end of the active segment, indexing it every INDEX_EVERY bytes. */
  add(m: StoredMessage, payload: Uint8Array, raw: boolean): void {
    const seg = this.active;
    const at = seg.size + this.batch.used;
    const size = writeRecord(this.batch, m.offset, m.timestamp, m.expires, m.key, m.headers, payload, raw, m.due, m.priority);
    if (seg.index.length === 0 || seg.sinceIndex >= INDEX_EVERY) {
      seg.index.push(m.offset - seg.base, at);
      seg.sinceIndex = 0;
    }
    seg.sinceIndex += size;
    seg.end = m.offset + 1;
    this.records++;
  }

  /** Creates the segment starting at `base` (header written synchronously, directory fsynced at the next sync). */
  private create(base: number): Segment {
    const path = join(this.dir, segmentName(base, 'log'));
    const fd = fs.openSync(path, 'w');
    const seg: Segment = { base, end: base, size: 0, index: [], sinceIndex: 0 };
    const b = new Batch(16);
    writeSegmentHeader(b, base);
    try {
      let done = 0;
      while (done < b.used) done += fs.writeSync(fd, b.buf, done, b.used - done);
    } catch (e) {
      // leave no segment without a header behind (recovery would drop it, but need not)
      fs.closeSync(fd);
      try {
        fs.rmSync(path, { force: true });
      } catch {
        // recovery removes a segment shorter than its header
      }
      throw e;
    }
    seg.size = b.used;
    this.bytes += b.used;
    this.fd = fd;
    this.list.push(seg);
    this.dirDirty = true;
    return seg;
  }

  /** Seals the active segment (its buffer written first, by the caller) and starts one at `base`. */
  roll(base: number): void {
    const old = this.active;
    if (old.end === old.base) {
      // empty: replace it
      fs.closeSync(this.fd);
      fs.rmSync(join(this.dir, segmentName(old.base, 'log')), { force: true });
      this.bytes -= old.size;
      this.list.pop();
    } else {
      writeIndex(this.dir, old);
      if (this.keepSealed) this.sealed.push(this.fd);
      else fs.closeSync(this.fd);
    }
    this.fd = -1;
    try {
      this.active = this.create(base);
    } catch (e) {
      throw this.fail(e, 'creating a segment');
    }
  }

  /** Writes the buffer to the active segment (synchronously); a torn write is cut back to the last whole record. */
  write(): void {
    const b = this.batch;
    if (b.used === 0) return;
    let done = 0;
    try {
      while (done < b.used) done += fs.writeSync(this.fd, b.buf, done, b.used - done);
    } catch (e) {
      try {
        if (done > 0) fs.ftruncateSync(this.fd, this.active.size);
      } catch {
        // recovery cuts a torn tail anyway
      }
      throw this.fail(e, 'write');
    }
    this.active.size += b.used;
    this.bytes += b.used;
    this.writes++;
    b.reset();
  }

  /** Deletes whole sealed segments below `head`, or over `maxBytes` and below `settled` (every group's committed offset). */
  retain(head: number, settled: number, maxBytes: number): void {
    const segs = this.list;
    while (segs.length > 1) {
      const next = segs[1].base;
      const below = next <= head;
      const overBytes = this.bytes > maxBytes && next <= Math.min(settled, this.active.end);
      if (!below && !overBytes) break;
      const seg = segs.shift() as Segment;
      fs.rmSync(join(this.dir, segmentName(seg.base, 'log')), { force: true });
      fs.rmSync(join(this.dir, segmentName(seg.base, 'idx')), { force: true });
      this.bytes -= seg.size;
      this.dirDirty = true;
    }
  }

  /** True when retention may delete a segment (the second starts at or below `head`, or the files are over `maxBytes`). */
  mayRetain(head: number, maxBytes: number): boolean {
    return this.list.length > 1 && (this.list[1].base <= head || this.bytes > maxBytes);
  }

  close(): void {
    const close = (fd: number) => {
      try {
        if (fd >= 0) fs.closeSync(fd);
      } catch {
        // already closed
      }
    };
    close(this.fd);
    this.fd = -1;
    for (const fd of this.sealed) close(fd);
    this.sealed = [];
    close(this.dirFd);
  }
}
