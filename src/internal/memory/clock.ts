import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { scheduleUnref } from '../timer.js';

const STAMPS_PER_READ = 64;

/**
 * Time for a topic, through its scheduler. `now()` reads the scheduler every time (TTL, delays,
 * timeouts). `stamp()` gives publish timestamps and, on the default `asyncScheduler` only,
 * reads the wall clock at most once every 64 stamps (a clock read costs more than a whole
 * in-memory delivery); the cached value is also dropped by a 1 ms timer, so it is never older
 * than 1 ms plus the length of the synchronous run it was read in. Virtual-time schedulers are
 * always read exactly.
 */
export class Clock {
  /** @internal the last clock read, reused while `budget` lasts (read inline by the topic's lean publish) */
  cached = 0;
  /** @internal stamps left before the clock is read again */
  budget = 0;
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
    return this.read();
  }

  /** The clock read behind `stamp()` (kept out of it so the cached path inlines). */
  private read(): number {
    const t = this.scheduler.now();
    // asyncScheduler under TestScheduler.run() reads virtual time: never cache that
    if (this.amortize && Math.abs(t - Date.now()) < 1000) {
      this.cached = t;
      this.budget = STAMPS_PER_READ - 1;
      if (!this.armed) {
        this.armed = true;
        scheduleUnref(this.scheduler, 1, this.reset);
      }
    }
    return t;
  }
}
