import { Observable, type OperatorFunction, type Subscription } from 'rxjs';
import type { Delivery } from '../types.js';
import { createBatch } from './internal/batch.js';
import { subscribeInner } from './internal/inner.js';
import { bufferSettings } from './internal/settings.js';
import { scheduleHeld } from './internal/timer.js';
import type { BufferMessagesOptions, DeliveryBatch } from './types.js';

/**
 * Batches deliveries into {@link DeliveryBatch}es of `count`, or of whatever arrived within
 * `ms` of a batch's first delivery, whichever comes first. No empty batch is emitted; what is
 * left when the source completes is emitted as a last batch. Settle a batch with `ackAll()`,
 * `nackAll()`, `termAll()` or delivery by delivery.
 *
 * A ringbus source delivers at most `prefetch` unsettled messages: with `prefetch < count`
 * only the timer closes a batch, so set `prefetch ≥ count` (and with `ms = Infinity` it is
 * required). On unsubscribe or error the source is unsubscribed first (a ringbus source
 * returns the deliveries of the open batch), then the open batch is nacked.
 *
 * @param count Most deliveries per batch. Integer ≥ 1 or `Infinity` (time only).
 * @param ms Most time a batch stays open after its first delivery, in ms. Number > 0 or `Infinity` (size only); not both `Infinity`.
 * @param options `scheduler` runs the batch timer. Default `asyncScheduler`.
 * @returns An operator from `Observable<Delivery<T>>` to `Observable<DeliveryBatch<T>>`.
 * @throws ConfigError synchronously, for an invalid argument.
 *
 * @example
 * ```ts
 * import { createBus } from 'ringbus';
 * import { bufferMessages } from 'ringbus/operators';
 *
 * const rows = createBus().topic<{ id: number }>('rows', { groups: ['db'] });
 * rows.messages({ group: 'db', prefetch: 500 })
 *   .pipe(bufferMessages(500, 100))
 *   .subscribe(async (batch) => {
 *     try { await insertMany(batch.values); batch.ackAll(); } catch { batch.nackAll({ delayMs: 1_000 }); }
 *   });
 * async function insertMany(values: readonly { id: number }[]) { console.log(values.length); }
 * ```
 */
export function bufferMessages<T>(count: number, ms: number, options?: BufferMessagesOptions): OperatorFunction<Delivery<T>, DeliveryBatch<T>> {
  const { scheduler } = bufferSettings(count, ms, options);
  return (source) =>
    new Observable<DeliveryBatch<T>>((subscriber) => {
      let open: Delivery<T>[] = [];
      let timer: Subscription | null = null;
      const emit = (): void => {
        timer?.unsubscribe();
        timer = null;
        if (open.length === 0) return;
        const batch = open;
        open = [];
        subscriber.next(createBatch(batch));
      };
      const inner = subscribeInner(subscriber, source, {
        next(d) {
          open.push(d);
          if (open.length >= count) emit();
          else if (open.length === 1 && ms !== Infinity) timer = scheduleHeld(scheduler, ms, emit);
        },
        error: (e) => subscriber.error(e),
        complete() {
          emit();
          subscriber.complete();
        },
      });
      return () => {
        timer?.unsubscribe();
        timer = null;
        inner.unsubscribe(); // a ringbus source returns the open batch here
        const left = open;
        open = [];
        for (const d of left) d.nack();
      };
    });
}
