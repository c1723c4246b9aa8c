import { ConfigError } from '../../errors.js';
import { describe } from '../validate.js';
import type { BatchEntry, BatchOptions, PublishOptions } from '../../types.js';
import { appendLean, appendLeveled } from './hot/append-lean.js';
import { LogAppend } from './log-append.js';
import { batchSettings, entrySettings, onlyPriority, type PublishSettings, publishSettings } from '../topic-options.js';

/** `publishBatch`'s values as an array; ConfigError when they are not iterable (a string is one value, not its characters). */
function batchOf<T>(values: Iterable<T>): T[] {
  if (Array.isArray(values)) return values as T[];
  if (typeof values !== 'object' || values === null || typeof (values as Iterable<T>)[Symbol.iterator] !== 'function') {
    throw new ConfigError('values', `\`values\` must be an iterable of messages (an array, a Set, a generator), got ${describe(values)}`);
  }
  return Array.from(values);
}

const NO_PUBLISH: PublishSettings = Object.freeze({ key: undefined, headers: undefined, ttlMs: Infinity, signal: undefined, codec: undefined, compression: undefined, delayMs: 0, deliverAt: 0, priority: -1 });
/**
 * The log half of a topic: publishing (one message, a batch, `tryPublish`), over appending
 * (log-append.ts), retention (log-retention.ts) and the log's state (log-state.ts).
 * {@link TopicImpl} adds groups, consumers, the faces, durability recovery and the lifecycle.
 */
export abstract class TopicLog<T> extends LogAppend<T> {
  private readonly waiting: (() => void)[] = [];
  /** The settings of a `tryPublish` that gives only `priority` (see `tryPublishSlow`). */
  private readonly ranked: PublishSettings = { ...NO_PUBLISH };

  /** True when `appendLeveled` may take a publish giving only `priority`: the lean conditions but for the levels, and not opening. */
  private leveledLean(): boolean {
    return this.codec === undefined && !this.persistent && this.ttlMs === Infinity && !this.ordered && this.delayed === 0 && !this.closed && !this.opening;
  }

  /** `admitted` (internal, dead letters): resolve once in the ring, as `tryPublish` would, not once durable. */
  publish(value: T, options?: PublishOptions, admitted = false): Promise<number> {
    if (options !== undefined || this.checked) return this.publishChecked(value, options, admitted);
    if (this.closed) return Promise.reject(this.closedError());
    return this.publishSettled(value, NO_PUBLISH, admitted);
  }

  /** `publish` with options or a codec, out of line: whatever refuses the message does before anything changes, as a rejected promise. */
  private publishChecked(value: T, options: PublishOptions | undefined, admitted: boolean): Promise<number> {
    let s = NO_PUBLISH;
    try {
      if (options !== undefined) s = publishSettings(options);
      this.checkLevel(s);
      if (this.closed) return Promise.reject(this.closedError());
      if (s.signal?.aborted) return Promise.reject(s.signal.reason);
      if (this.codec !== undefined || s.codec !== undefined || s.compression !== undefined) value = this.encode(value, s);
    } catch (e) {
      return Promise.reject(e); // bad options, or a value the codec cannot encode: a promise-returning method never throws
    }
    if (this.opening) return this.afterOpen(() => this.publishSettled(value, s, admitted), s.signal);
    return this.publishSettled(value, s, admitted);
  }

  /** `publish` once its message is accepted as valid: appended now, or queued for room. */
  private publishSettled(value: T, s: PublishSettings, admitted: boolean): Promise<number> {
    if (this.queue.length === 0) {
      let off: number;
      try {
        off = this.append(value, s);
      } catch (e) {
        return Promise.reject(e); // the store refused it: nothing was accepted
      }
      if (off >= 0) return admitted ? Promise.resolve(off) : this.journal.accepted(off);
      if (!this.strategy.waits) {
        this.rejected++;
        return Promise.reject(this.fullError());
      }
    }
    this.mayHunger();
    return this.queue.enqueue<number>(value, undefined, s, 0, undefined, admitted);
  }

  tryPublish(value: T, options?: PublishOptions): boolean {
    // `=== true`: one compare instead of V8's full truthiness test of the field (see ConsumerImpl.tryRecv)
    if (options === undefined && this.lean === true && this.queue.length === 0) {
      const off = appendLean(this, value);
      if (off >= 0) return true;
      if (off === -1) return false;
    }
    return this.tryPublishSlow(value, options);
  }

  /**
   * `tryPublish` past the lean path, out of line: the publisher's optimized code inlines
   * `tryPublish`, and what it leaves of V8's inlining budget decides whether the subscribers'
   * `next` chains are inlined too.
   */
  private tryPublishSlow(value: T, options: PublishOptions | undefined): boolean {
    let s = NO_PUBLISH;
    if (options !== undefined) {
      const level = this.levelOf === undefined || this.codec !== undefined ? -1 : onlyPriority(options, this.levelCount);
      if (level < 0) s = publishSettings(options);
      else {
        if (this.queue.length === 0 && this.leveledLean()) {
          const off = appendLeveled(this, value, level);
          if (off >= 0) return true;
        }
        // `append` reads the settings before it wakes anyone and keeps none of them: one object
        // serves every such publish (not with a codec: its `encode` runs user code in between)
        s = this.ranked;
        s.priority = level;
      }
    }
    this.checkLevel(s);
    if (this.closed) throw this.closedError();
    if (this.queue.length !== 0 || this.opening) return false;
    if (this.codec !== undefined || s.codec !== undefined || s.compression !== undefined) value = this.encode(value, s);
    if (this.append(value, s) >= 0) return true;
    if (!this.strategy.waits) this.rejected++;
    return false;
  }

  publishBatch(values: Iterable<T> | Iterable<BatchEntry<T>>, options?: BatchOptions): Promise<number[]> {
    if (options !== undefined || this.checked || !Array.isArray(values)) return this.publishBatchChecked(values, options);
    if (this.closed) return Promise.reject(this.closedError());
    return this.appendBatch(values as T[], NO_PUBLISH, undefined, this.lean);
  }

  /**
   * `publishBatch` with options, entries, a codec or an iterable, out of line: everything that can
   * refuse the batch runs before anything is appended (a batch is refused whole), as a rejected promise.
   */
  private publishBatchChecked(values: Iterable<T> | Iterable<BatchEntry<T>>, options: BatchOptions | undefined): Promise<number[]> {
    let s = NO_PUBLISH;
    let list: T[];
    let each: PublishSettings[] | undefined;
    try {
      let entries = false;
      if (options !== undefined) ({ settings: s, entries } = batchSettings(options));
      this.checkLevel(s);
      if (this.closed) return Promise.reject(this.closedError());
      if (entries) {
        const raw = batchOf(values as Iterable<BatchEntry<T>>);
        list = new Array<T>(raw.length);
        each = new Array<PublishSettings>(raw.length);
        for (let i = 0; i < raw.length; i++) {
          const e = entrySettings(raw[i], i, s);
          this.checkLevel(e.settings, `entries[${i}].priority`);
          list[i] = e.value as T;
          each[i] = e.settings;
        }
      } else list = batchOf(values as Iterable<T>);
      if (this.codec !== undefined || s.codec !== undefined || s.compression !== undefined) {
        const settings = s;
        list = list.map((x) => this.encode(x, settings));
      }
    } catch (e) {
      return Promise.reject(e);
    }
    if (s.signal?.aborted) return Promise.reject(s.signal.reason);
    if (this.opening) return this.afterOpen(() => this.appendBatch(list, s, each, false), s.signal);
    return this.appendBatch(list, s, each, options === undefined && this.lean);
  }

  /** Appends a batch accepted as valid (`each`: per-message settings); what does not fit waits for room or is refused. */
  private appendBatch(list: T[], s: PublishSettings, each: PublishSettings[] | undefined, lean: boolean): Promise<number[]> {
    let offsets: number[];
    let i = 0;
    if (this.queue.length === 0) {
      if (lean) {
        offsets = new Array<number>(list.length); // filled by index: no growth copies per batch
        i = this.appendRuns(list, offsets);
        if (i < list.length) offsets.length = i;
      } else offsets = [];
      if (i < list.length) {
        try {
          i = this.appendEach(list, s, each, offsets, i);
        } catch (e) {
          return this.batchRefused(offsets.length, e); // the journal refused a message
        }
      }
      if (i === list.length || !this.strategy.waits) {
        if (i > 0) this.wakeAll(); // a batch moves as a batch: one wake for all of it
        if (i === list.length) return this.journal.accepted(offsets);
        this.rejected += list.length - i;
        return Promise.reject(this.fullError());
      }
      // the rest waits for room: queue it before the wake, so acks made during the wake admit it
      this.mayHunger();
      const waiting = this.queue.enqueue<number[]>(undefined, list, s, i, offsets, false, each);
      if (i > 0) this.wakeAll();
      return waiting;
    }
    this.mayHunger();
    return this.queue.enqueue<number[]>(undefined, list, s, 0, [], false, each);
  }

  /**
   * A batch failed with `error` after its first `accepted` messages went in: they stay accepted
   * (consumers are woken, and with a store they are made durable before the promise rejects).
   */
  private batchRefused(accepted: number, error: unknown): Promise<never> {
    if (accepted > 0) this.wakeAll();
    const fail = (): never => {
      throw error;
    };
    return accepted === 0 ? Promise.reject(error) : this.journal.sync().then(fail, fail);
  }

  /**
   * Runs `publish` once the store is open, in the order asked; rejects instead when the topic was
   * closed meanwhile, the store could not open, or `signal` aborted.
   */
  private afterOpen<R>(publish: () => Promise<R>, signal: AbortSignal | undefined): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.whenOpen(() => {
        if (this.closed) reject(this.closedError());
        else if (signal?.aborted) reject(signal.reason);
        else publish().then(resolve, reject);
      });
    });
  }

  /** @internal (GroupHost) Runs `run` once the store is open (or could not open), after everything asked before it. */
  whenOpen(run: () => void): void {
    if (this.opening) this.waiting.push(run);
    else run();
  }

  /** The store is open and recovery applied (or it could not open): runs what waited, in order. */
  protected opened(): void {
    this.opening = false;
    for (const run of this.waiting.splice(0)) run();
  }

  /**
   * Resolves once everything the topic accepted so far is as durable as a resolved `publish()`
   * (at once without a storage; once open and synced while the store opens).
   */
  synced(): Promise<void> {
    if (!this.opening) return this.journal.sync();
    return new Promise<void>((resolve) => this.whenOpen(() => resolve(this.synced())));
  }

}
