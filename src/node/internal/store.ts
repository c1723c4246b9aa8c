/**
 * The durable side of one topic: a segmented record log, a group journal, and the sync modes
 * (`always`: group commit, one `fdatasync` in flight and the next batch waiting; `interval`:
 * write now, `fdatasync` on an un-ref'd timer; `never`: write only).
 */
import * as fs from 'node:fs';
import { dirname, join } from 'node:path';
import { createFramer, type Framer } from '../../codec/frame.js';
import { ConfigError, StorageError } from '../../errors.js';
import { describe, wellFormed } from '../../internal/validate.js';
import type { GroupEvent, RecoveredTopic, StoredMessage, TopicStore } from '../../storage.js';
import type { FileTopicStats, RecoveryReport } from '../types.js';
import { fsyncDir, GroupJournal } from './groups.js';
import { segmentName, TOPIC_META } from './names.js';
import type { FileStorageSettings } from './options.js';
import { Batch, FORMAT_VERSION, writeRecord, writeSegmentHeader } from './record.js';
import { INDEX_EVERY, scanSegments, type Segment, segmentsIn, writeIndex } from './scan.js';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const RESOLVED = Promise.resolve();

/** An fd of a directory, for fsyncs of its entries; -1 where directories cannot be opened (Windows). */
function openDir(dir: string): number {
  try {
    return fs.openSync(dir, 'r');
  } catch {
    return -1;
  }
}
/** A batch this large is written at once, without waiting for a sync. */
const FLUSH_BYTES = 4 * 1024 * 1024;

/** An error's message, led by its code unless the message already starts with it (Node's fs errors do). */
export function errText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  const message = e instanceof Error ? e.message : String(e);
  return typeof code !== 'string' || message.startsWith(code) ? message : `${code}: ${message}`;
}

export class FileTopicStore implements TopicStore {
  readonly recovered: RecoveredTopic & { readonly messages: StoredMessage[] };
  readonly report: RecoveryReport;
  private readonly segments: Segment[];
  private active: Segment;
  private fd = -1;
  private readonly dirFd: number;
  /** Sealed segments' fds, closed once fsynced. */
  private sealed: number[] = [];
  private dirDirty = false;
  private readonly batch = new Batch();
  private readonly journal: GroupJournal;
  private readonly framer: Framer<unknown>;
  private head: number;
  private bytesOnDisk = 0;
  /** Changes (appends and group events) so far; `written` and `synced` say how many reached the OS and the disk. */
  private seq = 0;
  private written = 0;
  private synced = 0;
  private inflight: Deferred | undefined = undefined;
  private inflightUpTo = 0;
  private next: Deferred | undefined = undefined;
  private writing: Deferred | undefined = undefined;
  private timer: NodeJS.Timeout | undefined = undefined;
  private failed: StorageError | undefined = undefined;
  private closed = false;
  private records = 0;
  private writes = 0;
  private syncs = 0;

  constructor(
    readonly topic: string,
    private readonly dir: string,
    private readonly s: FileStorageSettings,
    private readonly onRelease: () => void,
  ) {
    const t0 = performance.now();
    this.framer = createFramer({ codec: s.codec });
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
    this.journal = new GroupJournal(dir, s.fsync !== 'never');
    const rg = this.journal.recover();
    const bases = segmentsIn(dir);
    const head = Math.max(rg.head, bases.length > 0 ? bases[0] : 0);
    this.head = head;
    const messages: StoredMessage[] = [];
    const undecodable: number[] = [];
    const scan = scanSegments(dir, head, (r) => {
      if (r.offset < head) return;
      let value: unknown;
      if (r.raw) value = new Uint8Array(r.payload); // a copy: the file buffer is not kept alive
      else {
        try {
          value = this.framer.decode(new Uint8Array(r.payload));
        } catch {
          undecodable.push(r.offset);
          return;
        }
      }
      const m = { offset: r.offset, value, key: r.key, headers: r.headers, timestamp: r.timestamp, expires: r.expires };
      messages.push(r.due === 0 && r.priority < 0 ? m : { ...m, due: r.due === 0 ? undefined : r.due, priority: r.priority < 0 ? undefined : r.priority });
    });
    this.segments = scan.segments;
    for (const seg of this.segments) this.bytesOnDisk += seg.size;
    let tail = this.segments.length > 0 ? this.segments[this.segments.length - 1].end : head;
    if (tail < head) tail = head;
    if (scan.droppedTail !== undefined && tail < scan.droppedTail) tail = scan.droppedTail;
    this.dirFd = openDir(dir);
    const last = this.segments.length === 0 ? undefined : this.segments[this.segments.length - 1];
    if (last === undefined || scan.lastVersion < FORMAT_VERSION) {
      // a segment of an older format takes no more records (its header would not describe
      // them): the next ones go to a new segment, written in this version
      if (last !== undefined && last.end === last.base) {
        fs.rmSync(join(dir, segmentName(last.base, 'log')), { force: true }); // empty: replaced
        this.segments.pop();
        this.bytesOnDisk -= last.size;
      } else for (const seg of this.segments) if (seg.index.length > 0) writeIndex(dir, seg);
      try {
        this.active = this.createSegment(tail);
      } catch (e) {
        // reading what is on disk needs no free space: the topic opens, and appends fail
        this.fail(e, 'creating a segment');
        this.active = { base: tail, end: tail, size: 0, index: [], sinceIndex: 0 };
      }
    } else {
      this.active = this.segments[this.segments.length - 1];
      this.fd = fs.openSync(join(dir, segmentName(this.active.base, 'log')), 'a');
      for (const seg of this.segments) if (seg.index.length > 0) writeIndex(dir, seg);
    }
    this.retain();
    this.recovered = scan.corrupt.length === 0 ? { tail, messages, groups: this.journal.stored() } : { tail, messages, groups: this.journal.stored(), corrupt: scan.corrupt };
    this.report = {
      topic,
      segments: scan.segments.length,
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
      durationMs: performance.now() - t0,
    };
  }

  /** Creates the segment starting at `base` (header written synchronously, directory fsynced at the next sync). */
  private createSegment(base: number): Segment {
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
    this.bytesOnDisk += b.used;
    this.fd = fd;
    this.segments.push(seg);
    this.dirDirty = true;
    return seg;
  }

  private fail(e: unknown, what: string): StorageError {
    this.failed ??= e instanceof StorageError ? e : new StorageError(`topic \`${this.topic}\`: ${what} failed in ${this.dir}: ${errText(e)}`, { cause: e });
    return this.failed;
  }

  // ---- TopicStore ---------------------------------------------------------------------------

  append(m: StoredMessage): void {
    if (this.failed !== undefined) throw this.failed;
    if (this.closed) throw new StorageError(`topic \`${this.topic}\`: its store is closed`);
    if (m.key !== undefined && !wellFormed(m.key)) {
      throw new ConfigError('key', `\`key\` must be well-formed Unicode to be stored (a lone surrogate would come back as U+FFFD), got ${describe(m.key)}`);
    }
    const raw = m.value instanceof Uint8Array;
    const payload = raw ? (m.value as Uint8Array) : this.framer.encode(m.value); // a CodecError rejects this publish only
    let seg = this.active;
    if (seg.end !== seg.base && (m.offset !== seg.end || seg.size + this.batch.used + payload.length + 64 > this.s.segmentBytes)) {
      seg = this.roll(m.offset);
    } else if (seg.end === seg.base && m.offset !== seg.base) {
      seg = this.roll(m.offset);
    }
    const at = seg.size + this.batch.used;
    const size = writeRecord(this.batch, m.offset, m.timestamp, m.expires, m.key, m.headers, payload, raw, m.due, m.priority);
    if (seg.index.length === 0 || seg.sinceIndex >= INDEX_EVERY) {
      seg.index.push(m.offset - seg.base, at);
      seg.sinceIndex = 0;
    }
    seg.sinceIndex += size;
    seg.end = m.offset + 1;
    this.records++;
    this.seq++;
    if (this.batch.used >= FLUSH_BYTES) this.writeAll();
    if (this.timer === undefined) this.arm();
  }

  group(event: GroupEvent): void {
    if (this.failed !== undefined || this.closed) return;
    this.journal.event(event);
    this.seq++;
    if (this.timer === undefined) this.arm();
  }

  evicted(head: number): void {
    if (head > this.head) {
      this.head = head;
      if (this.timer === undefined) this.arm();
    }
  }

  sync(): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(this.failed);
    if (this.s.fsync !== 'always') {
      if (this.seq === this.written) return RESOLVED;
      if (this.writing === undefined) {
        const d = (this.writing = deferred());
        queueMicrotask(() => this.writeBatch(d));
      }
      return this.writing.promise;
    }
    if (this.seq === this.synced && !this.dirDirty) return RESOLVED;
    if (this.inflight !== undefined && this.seq === this.inflightUpTo) return this.inflight.promise;
    if (this.next === undefined) {
      this.next = deferred();
      if (this.inflight === undefined) queueMicrotask(() => this.startBatch());
    }
    return this.next.promise;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.disarm();
    await this.quiesce();
    let error: unknown;
    try {
      if (this.failed === undefined) {
        this.writeAll(true);
        if (this.s.fsync !== 'never') {
          fs.fdatasyncSync(this.fd);
          for (const fd of this.sealed) fs.fdatasyncSync(fd);
          if (this.journal.dirty) fs.fdatasyncSync(this.journal.journalFd);
          if (this.dirFd >= 0) {
            try {
              fs.fsyncSync(this.dirFd);
            } catch {
              // best effort, as above
            }
          }
        }
        writeIndex(this.dir, this.active);
      }
    } catch (e) {
      error = this.fail(e, 'close');
    }
    this.closeFds();
    this.onRelease();
    if (error !== undefined) throw error;
  }

  async destroy(): Promise<void> {
    this.closed = true;
    this.disarm();
    await this.quiesce();
    this.closeFds();
    try {
      fs.rmSync(this.dir, { recursive: true, force: true });
      if (this.s.fsync !== 'never') fsyncDir(dirname(this.dir));
    } catch (e) {
      throw new StorageError(`topic \`${this.topic}\`: cannot delete ${this.dir}: ${errText(e)}`, { cause: e });
    } finally {
      this.onRelease();
    }
  }

  // ---- writing ------------------------------------------------------------------------------

  /** Seals the active segment and starts one at `base`. */
  private roll(base: number): Segment {
    this.writeAll();
    const old = this.active;
    if (old.end === old.base) {
      // empty: replace it
      fs.closeSync(this.fd);
      fs.rmSync(join(this.dir, segmentName(old.base, 'log')), { force: true });
      this.bytesOnDisk -= old.size;
      this.segments.pop();
    } else {
      writeIndex(this.dir, old);
      if (this.s.fsync === 'never') fs.closeSync(this.fd);
      else this.sealed.push(this.fd);
    }
    this.fd = -1;
    try {
      this.active = this.createSegment(base);
    } catch (e) {
      throw this.fail(e, 'creating a segment');
    }
    return this.active;
  }

  /** Writes every buffered record and group event (synchronously), then applies retention. */
  private writeAll(headToo = false): void {
    const b = this.batch;
    if (b.used > 0) {
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
      this.bytesOnDisk += b.used;
      this.writes++;
      b.reset();
    }
    // the head is journaled when it lets a segment go, and on background flushes and close:
    // not per batch, which would add a journal fdatasync to every group commit
    if (this.head > this.journal.head && (headToo || (this.segments.length > 1 && this.head >= this.segments[1].base))) this.journal.setHead(this.head);
    if (this.journal.pending) {
      try {
        this.journal.write();
      } catch (e) {
        throw this.fail(e, 'group journal write');
      }
    }
    this.written = this.seq;
    if (this.segments.length > 1 && (this.segments[1].base <= this.journal.head || this.bytesOnDisk > this.s.maxBytes)) this.retain();
  }

  /** Deletes whole sealed segments that are below the head, or over `maxBytes` and settled by every group. */
  private retain(): void {
    const segs = this.segments;
    while (segs.length > 1) {
      const next = segs[1].base;
      const below = next <= this.journal.head;
      const overBytes = this.bytesOnDisk > this.s.maxBytes && next <= Math.min(this.journal.minCommitted(), this.active.end);
      if (!below && !overBytes) break;
      const seg = segs.shift() as Segment;
      fs.rmSync(join(this.dir, segmentName(seg.base, 'log')), { force: true });
      fs.rmSync(join(this.dir, segmentName(seg.base, 'idx')), { force: true });
      this.bytesOnDisk -= seg.size;
      this.dirDirty = true;
    }
  }

  /** `never`/`interval`: the microtask write shared by every sync() of this turn. */
  private writeBatch(d: Deferred): void {
    this.writing = undefined;
    try {
      this.writeAll();
      d.resolve();
    } catch (e) {
      d.reject(this.fail(e, 'write'));
    }
  }

  /** `always`: writes, then fdatasyncs every file touched (one batch in flight; the next waits). */
  private startBatch(): void {
    const d = this.next;
    if (d === undefined || this.inflight !== undefined) return;
    this.next = undefined;
    if (this.failed !== undefined) {
      d.reject(this.failed);
      return;
    }
    const upTo = this.seq;
    try {
      this.writeAll();
    } catch (e) {
      d.reject(this.fail(e, 'write'));
      return;
    }
    if (upTo - this.synced === 1 && this.sealed.length === 0 && !this.journal.dirty && !this.dirDirty) {
      // a lone change (one awaited publish at a time): fdatasync inline, which saves the thread
      // pool round trip (~20-40 µs of a ~150 µs sync); batches of more go to the pool
      this.syncs++;
      try {
        fs.fdatasyncSync(this.fd);
      } catch (e) {
        d.reject(this.fail(e, 'fdatasync'));
        return;
      }
      this.synced = upTo;
      d.resolve();
      return;
    }
    this.inflight = d;
    this.inflightUpTo = upTo;
    this.flushToDisk(() => {
      this.inflight = undefined;
      if (this.failed !== undefined) d.reject(this.failed);
      else {
        if (upTo > this.synced) this.synced = upTo;
        d.resolve();
      }
      if (this.next !== undefined) this.startBatch();
    });
  }

  /** fdatasync of the active segment, sealed segments and the journal, fsync of the directory when entries changed; then `done`. */
  private flushToDisk(done: () => void): void {
    const sealed = this.sealed;
    this.sealed = [];
    const fds = [this.fd, ...sealed];
    if (this.journal.dirty) {
      fds.push(this.journal.journalFd);
      this.journal.dirty = false;
    }
    const dir = this.dirDirty && this.dirFd >= 0;
    this.dirDirty = false;
    this.syncs++;
    let left = fds.length + (dir ? 1 : 0);
    const one = (e: NodeJS.ErrnoException | null): void => {
      if (e !== null) this.fail(e, 'fdatasync');
      if (--left > 0) return;
      for (const fd of sealed) fs.close(fd, () => {});
      done();
    };
    for (const fd of fds) fs.fdatasync(fd, one);
    if (dir) fs.fsync(this.dirFd, () => one(null)); // some file systems cannot fsync a directory: best effort
  }

  // ---- background flush ---------------------------------------------------------------------

  private arm(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => this.background(), this.s.intervalMs);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Every `intervalMs` while something changed: `always` syncs, `interval` writes and fdatasyncs, `never` writes. */
  private background(): void {
    this.timer = undefined;
    if (this.closed || this.failed !== undefined) return;
    if (this.head > this.journal.head) {
      this.journal.setHead(this.head);
      this.seq++;
    }
    if (this.s.fsync === 'always') {
      this.sync().catch(() => {});
      return;
    }
    try {
      this.writeAll();
    } catch {
      return; // failed: the next sync() reports it
    }
    if (this.s.fsync === 'interval' && this.inflight === undefined) {
      const d = (this.inflight = deferred());
      d.promise.catch(() => {});
      this.flushToDisk(() => {
        this.inflight = undefined;
        d.resolve();
      });
    }
  }

  /** Waits until no batch is in flight or waiting. */
  private async quiesce(): Promise<void> {
    for (;;) {
      const p = this.next?.promise ?? this.inflight?.promise ?? this.writing?.promise;
      if (p === undefined) return;
      await p.catch(() => {});
    }
  }

  private closeFds(): void {
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
    this.journal.close();
  }

  stats(): FileTopicStats {
    return {
      segments: this.segments.length,
      bytes: this.bytesOnDisk,
      firstOffset: this.segments.length > 0 ? this.segments[0].base : this.active.base,
      tail: this.active.end,
      records: this.records,
      writes: this.writes,
      syncs: this.syncs,
      failed: this.failed,
      recovery: this.report,
    };
  }
}
