import type { SchedulerLike, Subscription } from 'rxjs';

/** Schedules `work` after `delayMs` and un-refs the Node timer behind it, if any, so it never keeps a process alive. */
export function scheduleUnref(scheduler: SchedulerLike, delayMs: number, work: () => void): Subscription {
  const sub = scheduler.schedule(work, Math.max(0, delayMs));
  const id = (sub as unknown as { id?: { unref?: () => void } }).id;
  if (id !== null && typeof id === 'object' && typeof id.unref === 'function') id.unref();
  return sub;
}
