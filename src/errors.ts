/**
 * Errors thrown by ringbus. Every error is a {@link RingbusError} with a string-literal
 * `code`; the underlying cause, when there is one, is in `cause` (ES2022).
 *
 * Errors are branded with `Symbol.for('ringbus.error')`, so {@link isRingbusError} works
 * across two copies of the package in one process.
 *
 * @module
 */

const BRAND: unique symbol = Symbol.for('ringbus.error') as never;

/** Every code a {@link RingbusError} can carry. */
export type RingbusErrorCode =
  | 'ERR_CONFIG'
  | 'ERR_TOPIC_FULL'
  | 'ERR_CLOSED'
  | 'ERR_TIMEOUT'
  | 'ERR_CODEC'
  | 'ERR_STORAGE';

/**
 * Base class of every error ringbus throws.
 *
 * @example
 * ```ts
 * try { await topic.publish(x); }
 * catch (e) { if (isRingbusError(e) && e.code === 'ERR_CLOSED') { ... } }
 * ```
 */
export class RingbusError extends Error {
  /** A stable, string-literal code, e.g. `'ERR_CONFIG'`. */
  readonly code: RingbusErrorCode;
  /** @internal */
  readonly [BRAND] = true;

  constructor(code: RingbusErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** An option or argument was invalid. The message names the option, the value and the accepted range. */
export class ConfigError extends RingbusError {
  /** The option or argument that was rejected, e.g. `'capacity'`. */
  readonly option: string;
  constructor(option: string, message: string, options?: { cause?: unknown }) {
    super('ERR_CONFIG', message, options);
    this.option = option;
  }
}

/** A topic with `overflow: 'reject'` (or `'grow'` at `maxCapacity`) had no room. */
export class TopicFullError extends RingbusError {
  /** The name of the topic that was full. */
  readonly topic: string;
  constructor(topic: string, capacity: number) {
    super('ERR_TOPIC_FULL', `topic \`${topic}\` is full (capacity ${capacity})`);
    this.topic = topic;
  }
}

/** The topic, channel or consumer was closed. */
export class ClosedError extends RingbusError {
  constructor(message: string) {
    super('ERR_CLOSED', message);
  }
}

/**
 * A call to a remote peer ran out of time: kept for engines that wait on one (a bus served over a
 * port, NATS, Redis). The in-memory engine never throws it: running out of time while waiting
 * for a message is an answer, not an error — `recvTimeout(ms)` resolves `undefined` — and a
 * `signal: AbortSignal.timeout(ms)` rejects with that signal's reason (a `DOMException` named
 * `TimeoutError`), as web APIs do.
 */
export class TimeoutError extends RingbusError {
  constructor(message: string) {
    super('ERR_TIMEOUT', message);
  }
}

/**
 * What a {@link CodecError} says was wrong (docs/codecs.md has the table):
 * - `'bad-magic'`: not a frame and not JSON text;
 * - `'truncated'`: empty, or only the start of a frame header;
 * - `'unsupported-version'`: a frame format version this ringbus does not read;
 * - `'unknown-codec'` / `'unknown-compression'`: no codec / compression registered under the frame's id;
 * - `'corrupt'`: the compressed payload is invalid;
 * - `'too-large'`: the payload, or what it decompresses to, is over the configured limit;
 * - `'decode-error'`: the codec refused the payload;
 * - `'encode-error'`: the value cannot be encoded, or compression failed.
 */
export type CodecErrorReason =
  | 'bad-magic'
  | 'truncated'
  | 'unsupported-version'
  | 'unknown-codec'
  | 'unknown-compression'
  | 'corrupt'
  | 'too-large'
  | 'decode-error'
  | 'encode-error';

/** A value could not be encoded, or bytes could not be decoded. `reason` says what was wrong. */
export class CodecError extends RingbusError {
  /** What was wrong: one of {@link CodecErrorReason}. */
  readonly reason: CodecErrorReason;
  constructor(reason: CodecErrorReason, message: string, options?: { cause?: unknown }) {
    super('ERR_CODEC', message, options);
    this.reason = reason;
  }
}

/** Storage failed (I/O, lock held by another process, disk full). */
export class StorageError extends RingbusError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_STORAGE', message, options);
  }
}

/**
 * True when `u` is a {@link RingbusError}, from this copy of ringbus or any other.
 *
 * @example
 * ```ts
 * if (isRingbusError(e) && e.code === 'ERR_TOPIC_FULL') retryLater();
 * ```
 */
export function isRingbusError(u: unknown): u is RingbusError {
  return typeof u === 'object' && u !== null && (u as { [BRAND]?: unknown })[BRAND] === true;
}
