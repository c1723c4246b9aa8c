import type { Subscription } from 'rxjs';
import type { Delivery } from '../types.js';
import { createBatch } from './internal/batch.js';
import { bufferSettings } from './internal/settings.js';
import { scheduleHeld } from './internal/timer.js';
import type { BufferMessagesOptions, DeliveryBatch } from './types.js';
import { transformStream } from './internal/transform.js';

/**
 * The web-stream twin of {@link bufferMessages}: a `TransformStream` batching deliveries by
 * size or time, whichever first. At most one batch is open; while the reader does not read,
 * backpressure stops the writes. Cancelling stops the timer; through `pipeThrough` it cancels
 * a ringbus source, which returns the deliveries of the open batch.
 *
 * @param count Most deliveries per batch. Integer ≥ 1 or `Infinity`.
 * @param ms Most time a batch stays open after its first delivery, in ms. Number > 0 or `Infinity`; not both `Infinity`.
 * @param options `scheduler` runs the batch timer. Default `asyncScheduler`.
 * @returns `TransformStream<Delivery<T>, DeliveryBatch<T>>`.
 * @throws ConfigError synchronously, for an invalid argument.
 *
 * @example
 * ```ts
 * import { createBus } from 'ringbus';
 * import { bufferMessagesStream } from 'ringbus/operators';
 *
 * const rows = createBus().topic<number>('rows', { groups: ['db'] });
 * void rows.readable({ group: 'db', prefetch: 100 })
 *   .pipeThrough(bufferMessagesStream(100, 50))
 *   .pipeTo(new WritableStream({ write: (batch) => { console.log(batch.values); batch.ackAll(); } }));
 * ```
 */
export function bufferMessagesStream<T>(count: number, ms: number, options?: BufferMessagesOptions): TransformStream<Delivery<T>, DeliveryBatch<T>> {
  const { scheduler } = bufferSettings(count, ms, options);
  let open: Delivery<T>[] = [];
  let timer: Subscription | null = null;
  let out: TransformStreamDefaultController<DeliveryBatch<T>>;
  const stopTimer = (): void => {
    timer?.unsubscribe();
    timer = null;
  };
  const emit = (): void => {
    stopTimer();
    if (open.length === 0) return;
    const batch = open;
    open = [];
    out.enqueue(createBatch(batch));
  };
  return transformStream<Delivery<T>, DeliveryBatch<T>>({
    start(c) {
      out = c;
    },
    transform(d) {
      open.push(d);
      if (open.length >= count) emit();
      else if (open.length === 1 && ms !== Infinity) timer = scheduleHeld(scheduler, ms, emit);
    },
    flush() {
      emit();
    },
    cancel() {
      stopTimer();
      open = [];
    },
  });
}
