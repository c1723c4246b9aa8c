import type { SchedulerLike, Subscription } from 'rxjs';

/**
 * Schedules `work` after `delayMs`. Like `setTimeout` (and RxJS `bufferTime`), it keeps a Node
 * process alive until it runs or is unsubscribed: an operator arms one only while a subscriber
 * waits for what it brings (an open batch).
 */
export function scheduleHeld(scheduler: SchedulerLike, delayMs: number, work: () => void): Subscription {
  return scheduler.schedule(work, Math.max(0, delayMs));
}
