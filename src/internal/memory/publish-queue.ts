import type { PublishSettings } from '../topic-options.js';
import { bornMutable } from './hot/born.js';
import type { Journal } from './journal.js';

/** A publisher waiting for room: one value (`values` undefined) or the rest of a batch. */
interface Pending<T> {
  value: T | undefined;
  values: readonly T[] | undefined;
  index: number;
  offsets: number[] | undefined;
  settings: PublishSettings;
  /** A batch of entries: each message's own settings. */
  each: readonly PublishSettings[] | undefined;
  resolve: (result: never) => void;
  reject: (e: unknown) => void;
  onAbort: (() => void) | undefined;
  /** Resolve once admitted into the ring, without waiting for the store's sync (dead letters). */
  admitted: boolean;
}

/** What the queue needs from its topic. */
export interface PublishQueueHost<T> {
  /** Wakes every group once after a round of admissions. */
  wakeAll(): void;
  /** Confirms a publish once durable (at once without storage). */
  readonly journal: Journal;
}

/**
 * Publishers waiting for room under `overflow: 'block'`, admitted in FIFO order as room is
 * made (a batch keeps its place until all of it is in). Admission is re-entrancy safe: a
 * round that makes more room (a synchronous consumer acking) runs again instead of recursing.
 */
export class PublishQueue<T> {
  private waiting: Pending<T>[] = [];
  private admitting = false;
  private again = false;

  /** `append`: appends if there is room (offset, or -1); throws when the store refuses the message. */
  constructor(
    private readonly host: PublishQueueHost<T>,
    private readonly append: (value: T, s: PublishSettings, wake: boolean) => number,
  ) {
    bornMutable(this, 'waiting'); // `rejectAll` replaces it
  }

  get length(): number {
    return this.waiting.length;
  }

  /** Queues `value` (or `values` from `index`, `offsets` already published; `each`: per-message settings) until room is made. */
  enqueue<R>(value: T | undefined, values: readonly T[] | undefined, settings: PublishSettings, index: number, offsets: number[] | undefined, admitted = false, each?: readonly PublishSettings[]): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const p: Pending<T> = { value, values, index, offsets, settings, each, resolve: resolve as (r: never) => void, reject, onAbort: undefined, admitted };
      const signal = settings.signal;
      if (signal !== undefined) {
        p.onAbort = () => {
          const at = this.waiting.indexOf(p);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.waiting.push(p);
    });
  }

  /** Admits waiting publishers, in order, while there is room; wakes the groups once per round. */
  admit(): void {
    if (this.admitting) {
      this.again = true;
      return;
    }
    this.admitting = true;
    try {
      do {
        this.again = false;
        if (this.round()) this.host.wakeAll();
      } while (this.again && this.waiting.length > 0);
    } finally {
      this.admitting = false;
    }
  }

  /** One pass over the queue; true when anything was appended. */
  private round(): boolean {
    const w = this.waiting;
    let appended = false;
    while (w.length > 0) {
      const p = w[0];
      let result: number | number[];
      try {
        if (p.values === undefined) {
          const off = this.append(p.value as T, p.settings, false);
          if (off < 0) break;
          appended = true;
          result = off;
        } else {
          const offsets = p.offsets as number[];
          while (p.index < p.values.length) {
            const off = this.append(p.values[p.index], p.each === undefined ? p.settings : p.each[p.index], false);
            if (off < 0) break;
            appended = true;
            offsets.push(off);
            p.index++;
          }
          if (p.index < p.values.length) break;
          result = offsets;
        }
      } catch (e) {
        this.finish(w.shift() as Pending<T>); // the store refused it: that publish fails, the rest go on
        p.reject(e);
        continue;
      }
      this.finish(w.shift() as Pending<T>);
      if (p.admitted) p.resolve(result as never);
      else this.host.journal.confirm(result as never, p.resolve, p.reject);
    }
    return appended;
  }

  private finish(p: Pending<T>): void {
    if (p.onAbort !== undefined) p.settings.signal?.removeEventListener('abort', p.onAbort);
  }

  /** Rejects every waiting publisher (the topic closed). */
  rejectAll(error: () => unknown): void {
    const w = this.waiting;
    this.waiting = [];
    for (const p of w) {
      this.finish(p);
      p.reject(error());
    }
  }
}
