import { bytes as bytesCodec } from '../../codec/bytes.js';
import { CodecError } from '../../errors.js';
import type { Headers, PublishOptions } from '../../types.js';
import type { DeadLetterReason } from './group/group-types.js';
import { syncOf } from '../faces/sync-of.js';

/** The dead-letter topic, as the routing needs it. */
export interface DeadLetterTarget<T> {
  readonly closed: boolean;
  /** True when `publish()` waits for room (overflow `block`). */
  readonly waits: boolean;
  /** Its settings: a topic with a `codec` takes bytes through the `bytes` codec. */
  readonly settings: { readonly codec?: unknown };
  tryPublish(value: T, options: PublishOptions<T>): boolean;
  /** Resolves once admitted and, on a durable topic, synced. */
  publish(value: T, options: PublishOptions<T>): Promise<number>;
}

/** What a dead letter says about where it came from. */
export interface DeadLetterOrigin {
  readonly topic: string;
  readonly group: string;
  readonly offset: number;
  readonly reason: DeadLetterReason;
  readonly detail: string | undefined;
  readonly deliveries: number;
}

/** The original headers plus the `x-dead-letter-*` and `x-original-*` ones. */
export function deadLetterHeaders(headers: Headers, o: DeadLetterOrigin): Record<string, string> {
  const h: Record<string, string> = {
    ...headers,
    'x-dead-letter-reason': o.reason,
    'x-original-topic': o.topic,
    'x-original-offset': String(o.offset),
    'x-original-group': o.group,
    'x-deliveries': String(o.deliveries),
  };
  if (o.detail !== undefined) h['x-dead-letter-detail'] = o.detail;
  return h;
}

/** The header a dead letter carries when it holds bytes rather than the value (`'bytes'`). */
export const PAYLOAD_HEADER = 'x-dead-letter-payload';

/**
 * What a dead letter carries: the value a consumer of the source would have got or, where
 * there is no value, bytes (`bytes: true`): the frame of a message that failed to decode, the
 * damaged bytes of a `corrupt` record. `frame` is the source's encoded frame, when it had one.
 */
export interface DeadLetterPayload {
  readonly value: unknown;
  readonly bytes: boolean;
  readonly frame: Uint8Array | undefined;
}

/**
 * The payload of a dead letter. `frame`: `value` is the source topic's encoded frame (a codec
 * topic's retained message), decoded here with `decode`, the source's codec, unless the reason
 * says it cannot be (`decode-error`, `corrupt`) or decoding fails now.
 */
export function deadLetterPayload(value: unknown, frame: boolean, decode: ((bytes: unknown) => unknown) | undefined, reason: DeadLetterReason): DeadLetterPayload {
  if (!frame || decode === undefined) return { value, bytes: reason === 'corrupt', frame: undefined };
  const raw = value as Uint8Array;
  if (reason === 'decode-error' || reason === 'corrupt') return { value: raw, bytes: true, frame: raw };
  try {
    return { value: decode(raw), bytes: false, frame: raw };
  } catch {
    return { value: raw, bytes: true, frame: raw };
  }
}

function optionsFor<T>(dlq: DeadLetterTarget<T>, bytes: boolean, key: string | undefined, headers: Headers): PublishOptions<T> {
  if (!bytes) return key === undefined ? { headers } : { key, headers };
  const h = { ...headers, [PAYLOAD_HEADER]: 'bytes' };
  // a codec topic stores bytes as they are, in a frame its readers decode back to a Uint8Array
  const codec = dlq.settings.codec === undefined ? undefined : (bytesCodec as unknown as PublishOptions<T>['codec']);
  return { key, headers: h, codec };
}

/**
 * Publishes a dead letter. Returns true when it is done synchronously (published to a memory
 * topic, or dropped: then `dropped()` was called), or a promise that settles once the
 * dead-letter topic has it durably: admitted (a full topic under `block` waits for room) and,
 * on a durable topic, synced. The source settles the message only then, so its settle never
 * becomes durable before the copy is. A storage failure of the dead-letter topic counts as
 * dropped.
 *
 * A value the dead-letter topic's codec cannot encode goes as the source's frame, when it had
 * one (as bytes); without one it is dropped.
 */
export function sendDeadLetter<T>(dlq: DeadLetterTarget<T> | undefined, payload: DeadLetterPayload, key: string | undefined, headers: Headers, dropped: () => void): true | Promise<unknown> {
  if (dlq === undefined || dlq.closed) {
    dropped();
    return true;
  }
  let value = payload.value as T;
  let options = optionsFor(dlq, payload.bytes, key, headers);
  let accepted: boolean;
  try {
    accepted = dlq.tryPublish(value, options);
  } catch (e) {
    if (!(e instanceof CodecError) || payload.bytes || payload.frame === undefined) {
      dropped(); // closed meanwhile, a storage failure, or nothing else to send
      return true;
    }
    value = payload.frame as T;
    options = optionsFor(dlq, true, key, headers);
    try {
      accepted = dlq.tryPublish(value, options);
    } catch {
      dropped();
      return true;
    }
  }
  if (accepted) {
    const sync = syncOf(dlq);
    return sync === undefined ? true : sync().catch(dropped);
  }
  if (!dlq.waits) {
    dropped(); // the dead-letter topic refused it (and counted it as rejected)
    return true;
  }
  try {
    return dlq.publish(value, options).catch(dropped);
  } catch {
    dropped();
    return true;
  }
}
