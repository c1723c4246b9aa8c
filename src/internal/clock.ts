import { asyncScheduler, type SchedulerLike } from 'rxjs';

const STAMPS_PER_READ = 16;

/**
 * Time for a topic, through its scheduler. `now()` reads the scheduler every time (TTL, delays,
 * timeouts). `stamp()` gives publish timestamps and, on the default `asyncScheduler` only,
 * reads the wall clock at most once every 16 stamps within one synchronous run (a clock read
 * costs more than a whole in-memory delivery); the cached value is dropped at the next
 * microtask. Virtual-time schedulers are always read exactly.
 */
export class Clock {
  private cached = 0;
  private budget = 0;
  private armed = false;
  private readonly amortize: boolean;
  private readonly reset = (): void => {
    this.armed = false;
    this.budget = 0;
  };

  constructor(readonly scheduler: SchedulerLike) {
    this.amortize = scheduler === asyncScheduler;
  }

  now(): number {
    return this.scheduler.now();
  }

  stamp(): number {
    if (this.budget > 0) {
      this.budget--;
      return this.cached;
    }
    const t = this.scheduler.now();
    // asyncScheduler under TestScheduler.run() reads virtual time: never cache that
    if (this.amortize && Math.abs(t - Date.now()) < 1000) {
      this.cached = t;
      this.budget = STAMPS_PER_READ - 1;
      if (!this.armed) {
        this.armed = true;
        queueMicrotask(this.reset);
      }
    }
    return t;
  }
}
