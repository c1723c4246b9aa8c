/**
 * Publishing to a topic's log, as functions over its state: one message, a batch, `tryPublish`
 * past its lean path. The topic's `publish`, `tryPublish` and `publishBatch` keep their first
 * test inline (topic.ts) and call these for the rest.
 */
import { ConfigError } from '../../errors.js';
import { describe } from '../validate.js';
import type { BatchEntry, BatchOptions, PublishOptions } from '../../types.js';
import { appendLean, appendLeveled } from './hot/append-lean.js';
import { append, appendEach, appendRuns } from './log-append.js';
import { type LogState, NO_PUBLISH } from './log-state.js';
import { mayHunger } from './log-retention.js';
import { batchSettings, entrySettings, onlyPriority, type PublishSettings, publishSettings } from '../topic-options.js';

/** `publishBatch`'s values as an array; ConfigError when they are not iterable (a string is one value, not its characters). */
function batchOf<T>(values: Iterable<T>): T[] {
  if (Array.isArray(values)) return values as T[];
  if (typeof values !== 'object' || values === null || typeof (values as Iterable<T>)[Symbol.iterator] !== 'function') {
    throw new ConfigError('values', `\`values\` must be an iterable of messages (an array, a Set, a generator), got ${describe(values)}`);
  }
  return Array.from(values);
}

/** `publish` with options or a codec, out of line: whatever refuses the message does before anything changes, as a rejected promise. */
export function publishChecked<T>(log: LogState<T>, value: T, options: PublishOptions | undefined, admitted: boolean): Promise<number> {
  let s = NO_PUBLISH;
  try {
    if (options !== undefined) s = publishSettings(options);
    log.checkLevel(s);
    if (log.closed) return Promise.reject(log.closedError());
    if (s.signal?.aborted) return Promise.reject(s.signal.reason);
    if (log.codec !== undefined || s.codec !== undefined || s.compression !== undefined) value = log.encode(value, s);
  } catch (e) {
    return Promise.reject(e); // bad options, or a value the codec cannot encode: a promise-returning method never throws
  }
  if (log.opening) return afterOpen(log, () => publishSettled(log, value, s, admitted), s.signal);
  return publishSettled(log, value, s, admitted);
}

/** `publish` once its message is accepted as valid: appended now, or queued for room. */
export function publishSettled<T>(log: LogState<T>, value: T, s: PublishSettings, admitted: boolean): Promise<number> {
  if (log.queue.length === 0) {
    let off: number;
    try {
      off = append(log, value, s, true);
    } catch (e) {
      return Promise.reject(e); // the store refused it: nothing was accepted
    }
    if (off >= 0) return admitted ? Promise.resolve(off) : log.journal.accepted(off);
    if (!log.strategy.waits) {
      log.rejected++;
      return Promise.reject(log.fullError());
    }
  }
  mayHunger(log);
  return log.queue.enqueue<number>(value, undefined, s, 0, undefined, admitted);
}

/**
 * `tryPublish` past the lean path, out of line: the publisher's optimized code inlines
 * `tryPublish`, and what it leaves of V8's inlining budget decides whether the subscribers'
 * `next` chains are inlined too.
 */
export function tryPublishSlow<T>(log: LogState<T>, value: T, options: PublishOptions | undefined): boolean {
  let s = NO_PUBLISH;
  if (options !== undefined) {
    const level = log.codec !== undefined ? -1 : onlyPriority(options, log.levelCount);
    if (level < 0) s = publishSettings(options);
    else {
      if (log.leanRanked === true && log.queue.length === 0) {
        // without levels, `priority: 0` (the only level) asks for nothing: the plain lean append
        const off = log.levelOf === undefined ? appendLean(log, value) : appendLeveled(log, value, level);
        if (off >= 0) return true;
      }
      // `append` reads the settings before it wakes anyone and keeps none of them: one object
      // serves every such publish (not with a codec: its `encode` runs user code in between)
      s = log.ranked;
      s.priority = level;
    }
  }
  log.checkLevel(s);
  if (log.closed) throw log.closedError();
  if (log.queue.length !== 0 || log.opening) return false;
  if (log.codec !== undefined || s.codec !== undefined || s.compression !== undefined) value = log.encode(value, s);
  if (append(log, value, s, true) >= 0) return true;
  if (!log.strategy.waits) log.rejected++;
  return false;
}

/**
 * `publishBatch` with options, entries, a codec or an iterable, out of line: everything that can
 * refuse the batch runs before anything is appended (a batch is refused whole), as a rejected promise.
 */
export function publishBatchChecked<T>(log: LogState<T>, values: Iterable<T> | Iterable<BatchEntry<T>>, options: BatchOptions | undefined): Promise<number[]> {
  let s = NO_PUBLISH;
  let list: T[];
  let each: PublishSettings[] | undefined;
  try {
    let entries = false;
    if (options !== undefined) ({ settings: s, entries } = batchSettings(options));
    log.checkLevel(s);
    if (log.closed) return Promise.reject(log.closedError());
    if (entries) {
      const raw = batchOf(values as Iterable<BatchEntry<T>>);
      list = new Array<T>(raw.length);
      each = new Array<PublishSettings>(raw.length);
      for (let i = 0; i < raw.length; i++) {
        const e = entrySettings(raw[i], i, s);
        log.checkLevel(e.settings, `entries[${i}].priority`);
        list[i] = e.value as T;
        each[i] = e.settings;
      }
    } else list = batchOf(values as Iterable<T>);
    if (log.codec !== undefined || s.codec !== undefined || s.compression !== undefined) {
      const settings = s;
      list = list.map((x) => log.encode(x, settings));
    }
  } catch (e) {
    return Promise.reject(e);
  }
  if (s.signal?.aborted) return Promise.reject(s.signal.reason);
  if (log.opening) return afterOpen(log, () => appendBatch(log, list, s, each, false), s.signal);
  return appendBatch(log, list, s, each, options === undefined && log.lean);
}

/** Appends a batch accepted as valid (`each`: per-message settings); what does not fit waits for room or is refused. */
export function appendBatch<T>(log: LogState<T>, list: T[], s: PublishSettings, each: PublishSettings[] | undefined, lean: boolean): Promise<number[]> {
  let offsets: number[];
  let i = 0;
  if (log.queue.length === 0) {
    if (lean) {
      offsets = new Array<number>(list.length); // filled by index: no growth copies per batch
      i = appendRuns(log, list, offsets);
      if (i < list.length) offsets.length = i;
    } else offsets = [];
    if (i < list.length) {
      try {
        i = appendEach(log, list, s, each, offsets, i);
      } catch (e) {
        return batchRefused(log, offsets.length, e); // the journal refused a message
      }
    }
    if (i === list.length || !log.strategy.waits) {
      if (i > 0) log.wakeAll(); // a batch moves as a batch: one wake for all of it
      if (i === list.length) return log.journal.accepted(offsets);
      log.rejected += list.length - i;
      return Promise.reject(log.fullError());
    }
    // the rest waits for room: queue it before the wake, so acks made during the wake admit it
    mayHunger(log);
    const waiting = log.queue.enqueue<number[]>(undefined, list, s, i, offsets, false, each);
    if (i > 0) log.wakeAll();
    return waiting;
  }
  mayHunger(log);
  return log.queue.enqueue<number[]>(undefined, list, s, 0, [], false, each);
}

/**
 * A batch failed with `error` after its first `accepted` messages went in: they stay accepted
 * (consumers are woken, and with a store they are made durable before the promise rejects).
 */
function batchRefused<T>(log: LogState<T>, accepted: number, error: unknown): Promise<never> {
  if (accepted > 0) log.wakeAll();
  const fail = (): never => {
    throw error;
  };
  return accepted === 0 ? Promise.reject(error) : log.journal.sync().then(fail, fail);
}

/**
 * Runs `publish` once the store is open, in the order asked; rejects instead when the topic was
 * closed meanwhile, the store could not open, or `signal` aborted.
 */
function afterOpen<T, R>(log: LogState<T>, publish: () => Promise<R>, signal: AbortSignal | undefined): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    log.whenOpen(() => {
      if (log.closed) reject(log.closedError());
      else if (signal?.aborted) reject(signal.reason);
      else publish().then(resolve, reject);
    });
  });
}
