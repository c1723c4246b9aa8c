/**
 * The durable side of one topic, once recovered (recover.ts): its segment files (segments.ts),
 * its group journal, and the sync modes (`always`: group commit, one `fdatasync` in flight and
 * the next batch waiting; `interval`: write now, `fdatasync` on an un-ref'd timer; `never`:
 * write only).
 */
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { createFramer, type Framer } from '../../codec/frame.js';
import { ConfigError, StorageError } from '../../errors.js';
import { describe, wellFormed } from '../../internal/validate.js';
import type { GroupEvent, RecoveredTopic, StoredMessage, TopicStore } from '../../storage.js';
import type { FileTopicStats, RecoveryReport } from '../types.js';
import { fsyncDir, type GroupJournal } from './groups.js';
import type { FileStorageSettings } from './options.js';
import { recoverTopic } from './recover.js';
import { writeIndex } from './scan.js';
import { SegmentFiles } from './segments.js';

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
  private readonly files: SegmentFiles;
  private readonly journal: GroupJournal;
  private readonly framer: Framer<unknown>;
  private head: number;
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
  private syncs = 0;

  constructor(
    readonly topic: string,
    private readonly dir: string,
    private readonly s: FileStorageSettings,
    private readonly onRelease: () => void,
  ) {
    const t0 = performance.now();
    this.framer = createFramer({ codec: s.codec });
    const found = recoverTopic(topic, dir, s, this.framer);
    this.journal = found.journal;
    this.head = found.head;
    this.files = new SegmentFiles(dir, found.segments, found.topic.tail, found.lastVersion, s.fsync !== 'never', (e, what) => this.fail(e, what));
    this.retain();
    this.recovered = found.topic;
    this.report = { ...found.report, segments: this.files.list.length, durationMs: performance.now() - t0 };
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
    if (this.files.mustRoll(m.offset, payload.length, this.s.segmentBytes)) this.roll(m.offset);
    this.files.add(m, payload, raw);
    this.seq++;
    if (this.files.batch.used >= FLUSH_BYTES) this.writeAll();
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
    if (this.seq === this.synced && !this.files.dirDirty) return RESOLVED;
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
          fs.fdatasyncSync(this.files.fd);
          for (const fd of this.files.sealed) fs.fdatasyncSync(fd);
          if (this.journal.dirty) fs.fdatasyncSync(this.journal.journalFd);
          if (this.files.dirFd >= 0) {
            try {
              fs.fsyncSync(this.files.dirFd);
            } catch {
              // best effort, as above
            }
          }
        }
        writeIndex(this.dir, this.files.active);
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
  private roll(base: number): void {
    this.writeAll();
    this.files.roll(base);
  }

  /** Writes every buffered record and group event (synchronously), then applies retention. */
  private writeAll(headToo = false): void {
    const files = this.files;
    files.write();
    // the head is journaled when it lets a segment go, and on background flushes and close:
    // not per batch, which would add a journal fdatasync to every group commit
    if (this.head > this.journal.head && (headToo || (files.list.length > 1 && this.head >= files.list[1].base))) this.journal.setHead(this.head);
    if (this.journal.pending) {
      try {
        this.journal.write();
      } catch (e) {
        throw this.fail(e, 'group journal write');
      }
    }
    this.written = this.seq;
    if (files.mayRetain(this.journal.head, this.s.maxBytes)) this.retain();
  }

  /** Deletes whole sealed segments that are below the head, or over `maxBytes` and settled by every group. */
  private retain(): void {
    this.files.retain(this.journal.head, this.journal.minCommitted(), this.s.maxBytes);
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
    if (upTo - this.synced === 1 && this.files.sealed.length === 0 && !this.journal.dirty && !this.files.dirDirty) {
      // a lone change (one awaited publish at a time): fdatasync inline, which saves the thread
      // pool round trip (~20-40 µs of a ~150 µs sync); batches of more go to the pool
      this.syncs++;
      try {
        fs.fdatasyncSync(this.files.fd);
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
    const sealed = this.files.sealed;
    this.files.sealed = [];
    const fds = [this.files.fd, ...sealed];
    if (this.journal.dirty) {
      fds.push(this.journal.journalFd);
      this.journal.dirty = false;
    }
    const dir = this.files.dirDirty && this.files.dirFd >= 0;
    this.files.dirDirty = false;
    this.syncs++;
    let left = fds.length + (dir ? 1 : 0);
    const one = (e: NodeJS.ErrnoException | null): void => {
      if (e !== null) this.fail(e, 'fdatasync');
      if (--left > 0) return;
      for (const fd of sealed) fs.close(fd, () => {});
      done();
    };
    for (const fd of fds) fs.fdatasync(fd, one);
    if (dir) fs.fsync(this.files.dirFd, () => one(null)); // some file systems cannot fsync a directory: best effort
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
    this.files.close();
    this.journal.close();
  }

  stats(): FileTopicStats {
    return {
      segments: this.files.list.length,
      bytes: this.files.bytes,
      firstOffset: this.files.list.length > 0 ? this.files.list[0].base : this.files.active.base,
      tail: this.files.active.end,
      records: this.files.records,
      writes: this.files.writes,
      syncs: this.syncs,
      failed: this.failed,
      recovery: this.report,
    };
  }
}
