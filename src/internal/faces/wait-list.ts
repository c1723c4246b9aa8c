import type { SchedulerLike, Subscription } from 'rxjs';
import { scheduleHeld } from '../timer.js';

interface Waiter<T> {
  resolve: (v: T | undefined) => void;
  reject: (e: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  timer: Subscription | undefined;
}

/**
 * The pending `recv()` calls of one consumer, served in FIFO order; each has its own abort
 * signal and timeout (resolving `undefined`), removed with it so nothing is left behind.
 */
export class WaitList<T> {
  private list: Waiter<T>[] = [];

  constructor() {
    // Rule (docs/internals.md): a field a later method replaces is written twice at birth, so V8 never tracks it as a constant.
    this.list = [];
  }

  get length(): number {
    return this.list.length;
  }

  /** Queues a waiter; `ms` (finite) resolves it with `undefined` on `scheduler` when nothing came (a timer that holds the process, as `setTimeout` does). */
  add(signal: AbortSignal | undefined, ms: number, scheduler: SchedulerLike): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      const w: Waiter<T> = { resolve, reject, signal, onAbort: undefined, timer: undefined };
      if (signal !== undefined) {
        w.onAbort = () => {
          this.drop(w);
          reject(signal.reason);
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      if (ms !== Infinity) {
        w.timer = scheduleHeld(scheduler, ms, () => {
          this.drop(w);
          resolve(undefined);
        });
      }
      this.list.push(w);
    });
  }

  /**
   * Hands what `source.tryRecv()` gives to waiters in order, until it gives nothing; a throw
   * rejects that waiter. A method call, not a closure per consumer: optimized code that inlined
   * one consumer's closure would hold on to that consumer (and be thrown away when it dies).
   */
  serve(source: { tryRecv(): T | undefined }): void {
    const ws = this.list;
    while (ws.length > 0) {
      let v: T | undefined;
      try {
        v = source.tryRecv();
      } catch (e) {
        const w = ws.shift() as Waiter<T>;
        this.cleanup(w);
        w.reject(e);
        continue;
      }
      if (v === undefined) return;
      const w = ws.shift() as Waiter<T>;
      this.cleanup(w);
      w.resolve(v);
    }
  }

  /** Ends every waiter: rejected with `reason` when `aborted`, else resolved with `undefined`. */
  flush(aborted: boolean, reason: unknown): void {
    const ws = this.list;
    this.list = [];
    for (const w of ws) {
      this.cleanup(w);
      if (aborted) w.reject(reason);
      else w.resolve(undefined);
    }
  }

  private drop(w: Waiter<T>): void {
    const i = this.list.indexOf(w);
    if (i >= 0) this.list.splice(i, 1);
    this.cleanup(w);
  }

  private cleanup(w: Waiter<T>): void {
    if (w.onAbort !== undefined) w.signal?.removeEventListener('abort', w.onAbort);
    w.timer?.unsubscribe();
  }
}
