import { Observable, type SchedulerLike, type Subscriber } from 'rxjs';
import type { BusStats } from '../../types.js';
import { scheduleHeld } from '../timer.js';
import * as v from '../validate.js';

/** What `statsStream` needs of a bus: its figures, its scheduler, whether it is closed, and where it keeps its subscribers. */
export interface StatsSource {
  stats(): BusStats;
  readonly scheduler: SchedulerLike;
  readonly closed: boolean;
  /** Subscribers of `stats$`: `close()` completes them. */
  readonly watchers: Set<Subscriber<BusStats>>;
}

/**
 * `bus.stats$(ms)`: `stats()` every `ms` on the bus's scheduler while subscribed. The timer holds
 * the process while subscribed, as RxJS `interval` does; a closed bus completes at once.
 */
export function statsStream(source: StatsSource, ms: number): Observable<BusStats> {
  v.positiveDuration('ms', ms);
  if (ms === Infinity) v.duration('ms', ms, 1, false);
  return new Observable<BusStats>((subscriber) => {
    if (source.closed) {
      subscriber.complete();
      return;
    }
    source.watchers.add(subscriber);
    const tick = (): void => {
      subscriber.next(source.stats());
      if (!subscriber.closed) sub = scheduleHeld(source.scheduler, ms, tick);
    };
    let sub = scheduleHeld(source.scheduler, ms, tick);
    return () => {
      source.watchers.delete(subscriber);
      sub.unsubscribe();
    };
  });
}
