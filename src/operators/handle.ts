import { Observable, type OperatorFunction } from 'rxjs';
import { ConfigError } from '../errors.js';
import type { Delivery } from '../types.js';
import { endedReason, handleSettings, invoke, settleOutcome } from './internal/handler.js';
import { subscribeInner } from './internal/inner.js';
import { Queue } from './internal/queue.js';
import type { HandleOptions, HandleOutcome, Handler } from './types.js';

/**
 * Runs `fn` for each delivery, at most `concurrency` at a time, and settles it: ack when `fn`
 * returns (or resolves), nack with the retry policy's delay when it throws (or rejects), term
 * once the policy gives up. Emits one {@link HandleOutcome} per delivery, after settling it,
 * in completion order.
 *
 * Deliveries beyond `concurrency` wait in a FIFO of at most `maxBuffered`; a ringbus source
 * holds at most `prefetch` unsettled deliveries, so with `prefetch ≥ concurrency` memory stays
 * flat however fast the producer is. `fn`'s `signal` aborts when the subscription ends
 * (unsubscribe, error, or `options.signal`); the outcome of a call that ends after that is
 * dropped, and the source's unsubscription returns its delivery to the group (any other
 * delivery this operator still holds is then nacked, a no-op for a stale one).
 *
 * With no retry policy and no `maxDeliveries` on the topic, a message that always fails is
 * redelivered forever: set one of the two.
 *
 * @param fn `(value, delivery, signal) => R | PromiseLike<R>`.
 * @param options `concurrency` (default `1`), `retry` (default none), `maxBuffered` (default `1024`), `signal`.
 * @returns An operator from `Observable<Delivery<T>>` to `Observable<HandleOutcome<T, R>>`.
 * @throws ConfigError synchronously, for an invalid option.
 *
 * @example
 * ```ts
 * import { createBus } from 'ringbus';
 * import { handle } from 'ringbus/operators';
 *
 * const jobs = createBus().topic<string>('jobs', { groups: ['workers'], maxDeliveries: 5, deadLetter: 'jobs.dlq' });
 * jobs.messages({ group: 'workers', prefetch: 8 })
 *   .pipe(handle(async (url, _d, signal) => (await fetch(url, { signal })).status, {
 *     concurrency: 4,
 *     retry: { delayMs: 100, backoff: 'exponential', maxDelayMs: 5_000, jitter: 0.2 },
 *   }))
 *   .subscribe((o) => { if (!o.ok) console.warn(`${o.delivery.offset}: ${o.action}`, o.error); });
 * await jobs.publish('https://example.com/');
 * ```
 */
export function handle<T, R>(fn: Handler<T, R>, options?: HandleOptions): OperatorFunction<Delivery<T>, HandleOutcome<T, R>> {
  const { concurrency, retry, maxBuffered, signal } = handleSettings('handle', fn, options);
  return (source) =>
    new Observable<HandleOutcome<T, R>>((subscriber) => {
      const controller = new AbortController();
      const waiting = new Queue<Delivery<T>>();
      const inFlight = new Set<Delivery<T>>();
      let sourceDone = false;
      let ended = false;
      let draining = false;

      const end = (error: unknown): void => {
        if (ended) return;
        ended = true;
        subscriber.error(error);
      };

      const done = (o: HandleOutcome<T, R>): void => {
        if (ended || !inFlight.delete(o.delivery)) return;
        // Settling may push the next delivery synchronously: hold the pump so outcomes keep their order.
        const wasDraining = draining;
        draining = true;
        try {
          settleOutcome(o);
          subscriber.next(o);
        } finally {
          draining = wasDraining;
        }
        pump();
      };

      const pump = (): void => {
        if (draining) return;
        draining = true;
        try {
          while (!ended && inFlight.size < concurrency && waiting.length > 0) {
            const d = waiting.shift() as Delivery<T>;
            inFlight.add(d);
            invoke(fn, d, controller.signal, retry, done);
          }
        } finally {
          draining = false;
        }
        if (!ended && sourceDone && inFlight.size === 0 && waiting.length === 0) {
          ended = true;
          subscriber.complete();
        }
      };

      const onAbort = (): void => end((signal as AbortSignal).reason);
      if (signal !== undefined) {
        if (signal.aborted) {
          end(signal.reason);
          return;
        }
        signal.addEventListener('abort', onAbort, { once: true });
      }

      const inner = subscribeInner(subscriber, source, {
        next(d) {
          if (ended) return;
          waiting.push(d);
          pump();
          // (while an outcome is being settled, a freed slot is not refilled yet: it does not count as buffered)
          if (waiting.length - (concurrency - inFlight.size) > maxBuffered) {
            end(
              new ConfigError(
                'maxBuffered',
                `handle: more than ${maxBuffered} deliveries are waiting for a free slot (concurrency ${concurrency}); ` +
                  `lower the source's \`prefetch\` to at most concurrency + maxBuffered, or raise \`maxBuffered\``,
              ),
            );
          }
        },
        error: end,
        complete() {
          sourceDone = true;
          pump();
        },
      });

      return () => {
        ended = true;
        signal?.removeEventListener('abort', onAbort);
        controller.abort(signal?.aborted ? signal.reason : endedReason('handle'));
        inner.unsubscribe(); // a ringbus source returns every unsettled delivery here
        for (const d of waiting.drain()) d.nack();
        for (const d of inFlight) d.nack();
        inFlight.clear();
      };
    });
}
