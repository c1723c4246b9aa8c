import { type SchedulerLike, Subscription } from 'rxjs';

/**
 * Schedules `work` on `scheduler` after `delayMs`, and un-refs the underlying Node timer when
 * there is one, so that no ringbus timer keeps a process alive on its own.
 */
export function scheduleUnref(scheduler: SchedulerLike, delayMs: number, work: () => void): Subscription {
  if (delayMs > MAX_DELAY) return scheduleLong(scheduler, delayMs, work);
  const sub = scheduler.schedule(work, Math.max(0, delayMs));
  unref(sub);
  return sub;
}

/** Node and browsers run a timer longer than 2^31 - 1 ms at once: hop in steps below that. */
const MAX_DELAY = 2 ** 31 - 1;

function scheduleLong(scheduler: SchedulerLike, delayMs: number, work: () => void): Subscription {
  const at = scheduler.now() + delayMs;
  const outer = new Subscription();
  let inner: Subscription | undefined;
  const hop = (): void => {
    const left = at - scheduler.now();
    if (left <= 0) {
      outer.unsubscribe();
      work();
      return;
    }
    inner = scheduler.schedule(hop, Math.min(left, MAX_DELAY));
    unref(inner);
  };
  outer.add(() => inner?.unsubscribe());
  inner = scheduler.schedule(hop, MAX_DELAY);
  unref(inner);
  return outer;
}

function unref(sub: Subscription): void {
  const id = (sub as unknown as { id?: { unref?: () => void } }).id;
  if (id !== null && typeof id === 'object' && typeof id.unref === 'function') id.unref();
}

/**
 * One re-armable deadline. `arm(at)` makes sure `fire` runs no later than `at` (scheduler time);
 * arming for a later time than the one pending is a no-op. Allocates only when it (re)schedules.
 */
export class Deadline {
  private sub: Subscription | null = null;
  private at = Infinity;
  private readonly run = (): void => {
    this.sub = null;
    this.at = Infinity;
    this.fire();
  };

  constructor(
    private readonly scheduler: SchedulerLike,
    private readonly fire: () => void,
  ) {}

  arm(at: number): void {
    if (at >= this.at || at === Infinity) return;
    this.cancel();
    this.at = at;
    this.sub = scheduleUnref(this.scheduler, at - this.scheduler.now(), this.run);
  }

  cancel(): void {
    if (this.sub !== null) {
      this.sub.unsubscribe();
      this.sub = null;
    }
    this.at = Infinity;
  }
}
