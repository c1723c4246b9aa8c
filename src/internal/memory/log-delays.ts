/** Delayed messages (`delayMs`, `deliverAt`) of a topic's log, as functions over its state. */
import { type DelayHost, Delays } from './delays.js';
import type { LogState } from './log-state.js';
import type { PublishSettings } from '../topic-options.js';

/** When a message published with `s` (a `delayMs` or `deliverAt`) is due; 0 when that is already past. */
export function dueOf<T>(log: LogState<T>, s: PublishSettings): number {
  const now = log.scheduler.now();
  const at = s.deliverAt !== 0 ? s.deliverAt : now + s.delayMs;
  return at > now ? at : 0;
}

/** The message at `off` goes to no group before `at`. While any waits, publishes take the general path (it looks). */
export function delay<T>(log: LogState<T>, off: number, at: number): void {
  log.delays ??= new Delays(log.scheduler, new DelayEnds(log));
  log.delays.add(off, at);
  log.delayed = log.delays.size;
  log.lean = false;
  log.leanRanked = false;
  log.generalTake = true;
  log.ttlActive = true;
}

/** Releases the delayed messages due by now; `wake`: wake the groups (a take releasing them is about to look itself). */
export function releaseDue<T>(log: LogState<T>, wake: boolean): void {
  const d = log.delays as Delays;
  d.release();
  log.delayed = d.size;
  if (log.delayed === 0) {
    log.lean = log.leanPossible();
    log.leanRanked = log.leanRankedPossible();
    log.generalTake = log.levelOf !== undefined || log.ordered;
    log.syncTtlActive();
  }
  if (wake) log.wakeAll();
}

/** What the delay index calls back: the groups of the log. */
class DelayEnds<T> implements DelayHost {
  constructor(private readonly log: LogState<T>) {}

  cameDue(off: number): void {
    const gl = this.log.groupList;
    for (let i = 0; i < gl.length; i++) gl[i].cameDue(off);
  }

  onDelayTimer(): void {
    releaseDue(this.log, true);
  }

  someoneWaits(): boolean {
    return this.log.groupList.some((g) => g.members.some((m) => m.waited));
  }
}
