import { Decoder, Encoder } from '@msgpack/msgpack';
import type { EngineTopicOptions } from '../engine.js';
import { ConfigError } from '../errors.js';
import type { Headers } from '../types.js';

/**
 * A name as NATS takes it in a stream, consumer or subject token: letters, digits and `-` stay;
 * every other character (the `.`, `*`, `>` and spaces NATS refuses, and `_` itself, so that the
 * encoding is one-to-one) becomes `_` and its code point in hex, then `_`.
 */
export function encodeName(name: string): string {
  let out = '';
  for (const ch of name) {
    if (/[A-Za-z0-9-]/.test(ch)) out += ch;
    else out += `_${ch.codePointAt(0)!.toString(16)}_`;
  }
  return out;
}

export function decodeName(encoded: string): string {
  return encoded.replace(/_([0-9a-f]+)_/g, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)));
}

/** The topic options with their defaults, as the stream's description keeps them for every process. */
export interface NatsTopicConfig {
  readonly capacity: number;
  readonly overflow: 'block' | 'reject' | 'drop-oldest' | 'grow';
  /** Under `grow` only (absent otherwise, so that other topics' descriptions stay as they were). */
  readonly growthFactor?: number;
  readonly maxCapacity?: number;
  readonly shrinkThreshold?: number;
  readonly ttlMs: number | null;
  readonly groups: readonly string[];
  readonly ackTimeoutMs: number;
  readonly maxDeliveries: number | null;
  readonly deadLetter: string | null;
}

/** The defaults of every topic option (those of the memory engine). */
export function topicConfig(o: EngineTopicOptions | undefined): NatsTopicConfig {
  const capacity = o?.capacity ?? 1024;
  const overflow = o?.overflow ?? 'block';
  const config: NatsTopicConfig = {
    capacity,
    overflow,
    ttlMs: o?.ttlMs === undefined || o.ttlMs === Infinity ? null : o.ttlMs,
    groups: [...(o?.groups ?? [])],
    ackTimeoutMs: o?.ackTimeoutMs ?? 30_000,
    maxDeliveries: o?.maxDeliveries === undefined || o.maxDeliveries === Infinity ? null : o.maxDeliveries,
    deadLetter: o?.deadLetter ?? null,
  };
  if (overflow !== 'grow') return config;
  return { ...config, growthFactor: o?.growthFactor ?? 2, maxCapacity: o?.maxCapacity ?? Math.min(2 ** 30, 16 * capacity), shrinkThreshold: o?.shrinkThreshold ?? 0.25 };
}

/** The stream's `max_msgs`: the capacity, or under `grow` the most it may grow to. */
export function streamLimit(c: NatsTopicConfig): number {
  return c.overflow === 'grow' ? (c.maxCapacity ?? c.capacity) : c.capacity;
}

const DESCRIPTION = 'ringbus topic ';

export function describeConfig(c: NatsTopicConfig): string {
  return DESCRIPTION + JSON.stringify(c);
}

/** The config a stream's description holds, or undefined for a stream ringbus did not make. */
export function parseConfig(description: string | undefined): NatsTopicConfig | undefined {
  if (description === undefined || !description.startsWith(DESCRIPTION)) return undefined;
  try {
    return JSON.parse(description.slice(DESCRIPTION.length)) as NatsTopicConfig;
  } catch {
    return undefined;
  }
}

/** The first option in which `asked` differs from `have`, or undefined. */
export function configDiffers(have: NatsTopicConfig, asked: NatsTopicConfig): keyof NatsTopicConfig | undefined {
  for (const key of Object.keys(asked) as (keyof NatsTopicConfig)[]) {
    if (JSON.stringify(have[key]) !== JSON.stringify(asked[key])) return key;
  }
  return undefined;
}

export function conflict(topic: string, key: string, have: unknown, asked: unknown): ConfigError {
  return new ConfigError(key, `topic \`${topic}\` exists on the NATS server with a different \`${key}\`: ${JSON.stringify(have)} there, ${JSON.stringify(asked)} asked`);
}

/** What a message's payload holds: msgpack of `[value, key, headers, expiresAt]` (absent ones nil). */
export interface Envelope {
  readonly value: unknown;
  readonly key: string | undefined;
  readonly headers: Headers;
  /** Epoch ms after which the message is expired (a per-message TTL), or undefined. */
  readonly expiresAt: number | undefined;
}

const NO_HEADERS: Headers = Object.freeze({});

/** One encoder and one decoder for every payload: `encode()` and `decode()` build (and allocate buffers for) new ones per call. */
const encoder = new Encoder();
const decoder = new Decoder();

export function pack(value: unknown, key: string | undefined, headers: Headers | undefined, expiresAt: number | undefined): Uint8Array {
  return encoder.encode([value, key ?? null, headers !== undefined && Object.keys(headers).length > 0 ? headers : null, expiresAt ?? null]);
}

export function unpack(data: Uint8Array): Envelope {
  const [value, key, headers, expiresAt] = decoder.decode(data) as [unknown, string | null, Headers | null, number | null];
  return { value, key: key ?? undefined, headers: headers ?? NO_HEADERS, expiresAt: expiresAt ?? undefined };
}
