import type { Delivery } from '../../types.js';
import type { HandleFailure, HandleOptions, HandleOutcome, Handler } from '../types.js';
import { type RetrySettings, retryDelay, retrySettings } from './retry.js';
import * as v from './validate.js';

/** Validated options of `handle` / `handleStream`. */
export interface HandleSettings {
  readonly concurrency: number;
  readonly retry: RetrySettings | undefined;
  readonly maxBuffered: number;
  readonly signal: AbortSignal | undefined;
}

const KEYS = ['concurrency', 'retry', 'maxBuffered', 'signal'] as const;

export function handleSettings(what: string, fn: unknown, options: HandleOptions | undefined): HandleSettings {
  v.fn('fn', fn);
  const o = v.options<HandleOptions>(`${what} options`, options, KEYS);
  return {
    concurrency: o.concurrency === undefined ? 1 : v.integer('concurrency', o.concurrency, 1, 2 ** 20),
    retry: retrySettings(o.retry),
    maxBuffered: o.maxBuffered === undefined ? 1024 : v.integer('maxBuffered', o.maxBuffered, 0, 2 ** 30, true),
    signal: v.signal('signal', o.signal),
  };
}

function isPromiseLike(x: unknown): x is PromiseLike<unknown> {
  return x !== null && (typeof x === 'object' || typeof x === 'function') && typeof (x as PromiseLike<unknown>).then === 'function';
}

function failure<T>(d: Delivery<T>, error: unknown, retry: RetrySettings | undefined): HandleFailure<T> {
  const delay = retry === undefined ? 0 : retryDelay(retry, d.deliveryCount);
  return delay < 0 ? { ok: false, delivery: d, error, action: 'term', retryDelayMs: 0 } : { ok: false, delivery: d, error, action: 'nack', retryDelayMs: delay };
}

/**
 * Runs `fn` on one delivery and calls `done` with its outcome (synchronously when `fn` is
 * sync). The caller settles it with {@link settleOutcome} unless the subscription ended.
 */
export function invoke<T, R>(fn: Handler<T, R>, d: Delivery<T>, signal: AbortSignal, retry: RetrySettings | undefined, done: (o: HandleOutcome<T, R>) => void): void {
  let r: R | PromiseLike<R>;
  try {
    r = fn(d.value, d, signal);
  } catch (e) {
    done(failure(d, e, retry));
    return;
  }
  if (isPromiseLike(r)) {
    r.then(
      (result) => done({ ok: true, delivery: d, result }),
      (e: unknown) => done(failure(d, e, retry)),
    );
  } else {
    done({ ok: true, delivery: d, result: r });
  }
}

/** Acks, nacks (with the retry delay) or terms the outcome's delivery. */
export function settleOutcome<T, R>(o: HandleOutcome<T, R>): void {
  const d = o.delivery;
  if (o.ok) d.ack();
  else if (o.action === 'nack') d.nack(o.retryDelayMs > 0 ? { delayMs: o.retryDelayMs } : undefined);
  else d.term(`handle gave up after ${d.deliveryCount} attempt${d.deliveryCount === 1 ? '' : 's'}: ${v.messageOf(o.error)}`);
}

/** The abort reason when a subscription or stream ends while work is in flight. */
export function endedReason(what: string): DOMException {
  return new DOMException(`${what}: the subscription ended`, 'AbortError');
}
