import type { Delivery } from '../types.js';
import { endedReason, handleSettings, invoke, settleOutcome } from './internal/handler.js';
import type { HandleOptions, HandleOutcome, Handler } from './types.js';
import { transformStream } from './internal/transform.js';

/**
 * The web-stream twin of {@link handle}: a `TransformStream` that runs `fn` for each delivery
 * written to it, at most `concurrency` at a time, settles it (ack / nack with the retry delay /
 * term) and enqueues its {@link HandleOutcome}, in completion order.
 *
 * No unbounded queue: a write waits while `concurrency` calls are in flight, and the readable
 * side holds at most `concurrency` outcomes before backpressure stops the writes. Cancelling
 * the readable side (or aborting the writable side, or `options.signal`) aborts `fn`'s signal;
 * through `pipeThrough` it cancels a ringbus source, which returns every delivery it handed out
 * and that is still unsettled (outcomes arriving later are dropped, unsettled).
 *
 * @param fn `(value, delivery, signal) => R | PromiseLike<R>`.
 * @param options `concurrency` (default `1`), `retry` (default none), `signal`. `maxBuffered` does not apply (backpressure does).
 * @returns `TransformStream<Delivery<T>, HandleOutcome<T, R>>`.
 * @throws ConfigError synchronously, for an invalid option.
 *
 * @example
 * ```ts
 * import { createBus } from 'ringbus';
 * import { handleStream } from 'ringbus/operators';
 *
 * const jobs = createBus().topic<number>('jobs', { groups: ['workers'] });
 * await jobs.publishBatch([1, 2, 3]);
 * await jobs.close();
 * await jobs.readable({ group: 'workers', prefetch: 8 })
 *   .pipeThrough(handleStream(async (n) => n * 2, { concurrency: 4, retry: { delayMs: 100 } }))
 *   .pipeTo(new WritableStream({ write: (o) => console.log(o.ok ? o.result : o.error) }));
 * ```
 */
export function handleStream<T, R>(fn: Handler<T, R>, options?: HandleOptions): TransformStream<Delivery<T>, HandleOutcome<T, R>> {
  const { concurrency, retry, signal } = handleSettings('handleStream', fn, options);
  const controller = new AbortController();
  let out: TransformStreamDefaultController<HandleOutcome<T, R>>;
  let inFlight = 0;
  let ended = false;
  /** A write waiting for a free slot, or `flush` waiting for the last call. */
  let wake: (() => void) | null = null;

  const stop = (reason: unknown): void => {
    if (ended) return;
    ended = true;
    signal?.removeEventListener('abort', onAbort);
    controller.abort(reason);
    const w = wake;
    wake = null;
    w?.();
  };
  const onAbort = (): void => {
    const reason = (signal as AbortSignal).reason;
    stop(reason);
    out.error(reason);
  };

  const done = (o: HandleOutcome<T, R>): void => {
    inFlight--;
    if (ended) return;
    settleOutcome(o);
    try {
      out.enqueue(o);
    } catch (e) {
      stop(e); // the readable side is gone (a runtime without the transformer `cancel` hook)
      return;
    }
    const w = wake;
    wake = null;
    w?.();
  };

  /** Resolves once fewer than `limit` calls are in flight (or the stream ended). */
  const below = (limit: number): void | Promise<void> => {
    if (ended || inFlight < limit) return;
    return new Promise<void>((resolve) => {
      const check = (): void => {
        if (ended || inFlight < limit) resolve();
        else wake = check;
      };
      wake = check;
    });
  };

  return transformStream<Delivery<T>, HandleOutcome<T, R>>(
    {
      start(c) {
        out = c;
        if (signal === undefined) return;
        if (signal.aborted) {
          stop(signal.reason);
          c.error(signal.reason);
        } else signal.addEventListener('abort', onAbort, { once: true });
      },
      async transform(d) {
        if (ended) return;
        inFlight++;
        invoke(fn, d, controller.signal, retry, done);
        await below(concurrency); // the next write waits for a free slot
      },
      async flush() {
        await below(1);
        stop(endedReason('handleStream'));
      },
      cancel(reason) {
        stop(reason ?? endedReason('handleStream'));
      },
    },
    { highWaterMark: 1 },
    { highWaterMark: concurrency },
  );
}
