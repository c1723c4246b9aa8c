import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { ConfigError } from '../../errors.js';
import type { Delivery } from '../../types.js';
import type { BufferMessagesOptions, ExpireOptions } from '../types.js';
import * as v from './validate.js';

/** Validates `expire`'s arguments once. */
export function expireSettings<T>(ms: number, options: ExpireOptions<T> | undefined): { scheduler: SchedulerLike; onExpired: ((d: Delivery<T>, ageMs: number) => void) | undefined } {
  v.duration('ms', ms, false, true);
  const o = v.options<ExpireOptions<T>>('expire options', options, ['scheduler', 'onExpired']);
  return {
    scheduler: v.scheduler<SchedulerLike>('scheduler', o.scheduler) ?? asyncScheduler,
    onExpired: v.optionalFn<(d: Delivery<T>, ageMs: number) => void>('onExpired', o.onExpired),
  };
}

/** Validates `bufferMessages`'s arguments once. */
export function bufferSettings(count: number, ms: number, options: BufferMessagesOptions | undefined): { scheduler: SchedulerLike } {
  v.integer('count', count, 1, 2 ** 30, true);
  v.duration('ms', ms, true, true);
  if (count === Infinity && ms === Infinity) {
    throw new ConfigError('count', '`count` and `ms` cannot both be `Infinity`: a batch would never close');
  }
  const o = v.options<BufferMessagesOptions>('bufferMessages options', options, ['scheduler']);
  return { scheduler: v.scheduler<SchedulerLike>('scheduler', o.scheduler) ?? asyncScheduler };
}
