import type { SchedulerLike } from 'rxjs';
import type { Codec, Compression } from '../codec/types.js';
import { checkCodec, checkCompression } from '../codec/registry.js';
import { ConfigError } from '../errors.js';
import type { Storage } from '../storage.js';
import type { BatchOptions, ConsumerOptions, OverflowPolicy, PublishOptions, TopicOptions } from '../types.js';
import * as v from './validate.js';

/** Topic options with every default applied. */
export interface TopicSettings {
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  readonly growthFactor: number;
  readonly maxCapacity: number;
  readonly shrinkThreshold: number;
  readonly ttlMs: number;
  readonly groups: readonly string[];
  readonly ackTimeoutMs: number;
  readonly maxDeliveries: number;
  readonly deadLetter: string | undefined;
  readonly scheduler: SchedulerLike;
  readonly codec: Codec<any> | undefined;
  readonly compression: Compression | undefined;
  readonly storage: Storage | undefined;
  /** Priority levels (1: none). */
  readonly priorities: number;
  /** Fair queuing: deliveries in a row from one level before a lower waiting level gets one (`Infinity`: strict). */
  readonly maxConsecutive: number;
  /** `'key'`: per key, one message in flight per group, in offset order. */
  readonly ordering: 'none' | 'key';
}

const TOPIC_KEYS = ['capacity', 'overflow', 'growthFactor', 'maxCapacity', 'shrinkThreshold', 'ttlMs', 'groups', 'ackTimeoutMs', 'maxDeliveries', 'deadLetter', 'scheduler', 'codec', 'compression', 'storage', 'priorities', 'maxConsecutive', 'ordering'] as const;

/** Throws ConfigError unless `s` looks like a {@link Storage}. */
export function checkStorage(option: string, s: unknown): Storage | undefined {
  if (s === undefined) return undefined;
  if (typeof s !== 'object' || s === null || typeof (s as Storage).open !== 'function' || typeof (s as Storage).name !== 'string') {
    throw new ConfigError(option, `\`${option}\` must be a Storage (with \`name\` and \`open(topic)\`), e.g. fileStorage(dir) from ringbus/node; got ${v.describe(s)}`);
  }
  return s as Storage;
}
const OVERFLOWS: readonly OverflowPolicy[] = ['block', 'drop-oldest', 'reject', 'grow'];

/** Validates topic options synchronously, before anything is created. */
export function topicSettings(name: string, options: TopicOptions | undefined, defaultScheduler: SchedulerLike, defaultStorage?: Storage): TopicSettings {
  v.name('name', name);
  const o = v.options<TopicOptions>('topic options', options, TOPIC_KEYS);
  const capacity = o.capacity === undefined ? 1024 : v.integer('capacity', o.capacity, 1, v.RANGE_MAX);
  const overflow = o.overflow === undefined ? 'block' : v.oneOf('overflow', o.overflow, OVERFLOWS);
  const growthFactor = o.growthFactor === undefined ? 2 : v.numberIn('growthFactor', o.growthFactor, 1, 16, 'a number greater than 1 and at most 16', true, false);
  let maxCapacity = capacity;
  if (o.maxCapacity !== undefined) {
    maxCapacity = v.integer('maxCapacity', o.maxCapacity, 1, v.RANGE_MAX);
    if (maxCapacity < capacity) {
      throw new ConfigError('maxCapacity', `\`maxCapacity\` must be an integer from \`capacity\` (${capacity}) to 2^30, got ${v.describe(maxCapacity)}`);
    }
  } else if (overflow === 'grow') {
    maxCapacity = Math.min(v.RANGE_MAX, capacity * 16);
  }
  const shrinkThreshold = o.shrinkThreshold === undefined ? 0.25 : v.numberIn('shrinkThreshold', o.shrinkThreshold, 0, 1, 'a number between 0 and 1 (exclusive)', true, true);
  const ttlMs = o.ttlMs === undefined ? Infinity : v.positiveDuration('ttlMs', o.ttlMs);
  const ackTimeoutMs = o.ackTimeoutMs === undefined ? 30_000 : v.positiveDuration('ackTimeoutMs', o.ackTimeoutMs);
  const maxDeliveries = o.maxDeliveries === undefined ? Infinity : v.integer('maxDeliveries', o.maxDeliveries, 1, v.RANGE_MAX, true);
  let deadLetter: string | undefined;
  if (o.deadLetter !== undefined) {
    deadLetter = v.name('deadLetter', o.deadLetter);
    if (deadLetter === name) throw new ConfigError('deadLetter', `\`deadLetter\` must name another topic than \`${name}\` itself, got ${v.describe(deadLetter)}`);
  }
  let groups: readonly string[] = [];
  if (o.groups !== undefined) {
    if (!Array.isArray(o.groups)) throw new ConfigError('groups', `\`groups\` must be an array of non-empty strings, got ${v.describe(o.groups)}`);
    groups = o.groups.map((g, i) => {
      if (typeof g !== 'string' || g.length === 0) throw new ConfigError('groups', `\`groups\` must be an array of non-empty strings, got ${v.describe(g)} at index ${i}`);
      const problem = v.nameProblem(g);
      if (problem !== undefined) throw new ConfigError('groups', `\`groups\` must hold names of ${problem}, got ${v.describe(g)} at index ${i}`);
      return g;
    });
    if (new Set(groups).size !== groups.length) throw new ConfigError('groups', `\`groups\` must not name a group twice, got ${JSON.stringify(groups)}`);
  }
  let scheduler = defaultScheduler;
  if (o.scheduler !== undefined) {
    const s = o.scheduler as SchedulerLike;
    if (typeof s !== 'object' || s === null || typeof s.schedule !== 'function' || typeof s.now !== 'function') {
      throw new ConfigError('scheduler', `\`scheduler\` must be an RxJS SchedulerLike (with \`now()\` and \`schedule()\`), got ${v.describe(s)}`);
    }
    scheduler = s;
  }
  if (o.codec !== undefined) checkCodec('codec', o.codec);
  if (o.compression !== undefined) {
    checkCompression('compression', o.compression);
    if (o.codec === undefined) throw new ConfigError('compression', '`compression` needs a `codec`: without one, values are passed by reference and never encoded');
  }
  const storage = o.storage === undefined ? defaultStorage : checkStorage('storage', o.storage);
  const priorities = o.priorities === undefined ? 1 : v.integer('priorities', o.priorities, 1, 255);
  const maxConsecutive = o.maxConsecutive === undefined ? Infinity : v.integer('maxConsecutive', o.maxConsecutive, 1, v.RANGE_MAX, true);
  const ordering = o.ordering === undefined ? 'none' : v.oneOf('ordering', o.ordering, ['none', 'key']);
  return { capacity, overflow, growthFactor, maxCapacity, shrinkThreshold, ttlMs, groups, ackTimeoutMs, maxDeliveries, deadLetter, scheduler, codec: o.codec, compression: o.compression, storage, priorities, maxConsecutive, ordering };
}

/** The first option that differs between two settings, or undefined when they are the same. */
export function settingsDiffer(a: TopicSettings, b: TopicSettings): string | undefined {
  for (const k of TOPIC_KEYS) {
    const x = a[k];
    const y = b[k];
    if (k === 'groups') {
      const gx = x as readonly string[];
      const gy = y as readonly string[];
      if (gx.length !== gy.length || gx.some((g, i) => g !== gy[i])) return k;
    } else if (x !== y) return k;
  }
  return undefined;
}

/** Parsed publish options. */
export interface PublishSettings {
  key: string | undefined;
  headers: Readonly<Record<string, string>> | undefined;
  ttlMs: number;
  signal: AbortSignal | undefined;
  codec: Codec<any> | undefined;
  compression: Compression | undefined;
  /** Hand the message to no group for this long after it is appended (0: at once). */
  delayMs: number;
  /** Hand the message to no group before this time (scheduler clock; 0: no such time). */
  deliverAt: number;
  /** Priority level (-1: the topic's default, its middle level). The topic checks it against its `priorities`. */
  priority: number;
}

const PUBLISH_KEYS = ['key', 'headers', 'ttlMs', 'signal', 'codec', 'compression', 'delayMs', 'deliverAt', 'priority'] as const;

/** A `priority` option as given (`at`: the option path prefix); -1 when absent. The topic checks its range. */
function priorityOf(priority: unknown, at: string): number {
  return priority === undefined ? -1 : v.integer(`${at}priority`, priority, 0, 254);
}

/**
 * The level of publish options that give `priority` and nothing else, an integer the topic's
 * `levels` allow: the common publish on a topic with priorities, checked without allocating.
 * -1 when the options need {@link publishSettings} (anything else given, or a bad value: it
 * raises the error). Reads the keys as for...in lists them, as {@link publishSettings} does.
 */
export function onlyPriority(options: PublishOptions, levels: number): number {
  let level = -1;
  for (const k in options) {
    if (k !== 'priority' || level !== -1) return -1;
    const p = (options as Record<string, unknown>)[k];
    if (typeof p !== 'number' || !(p >= 0 && p < levels) || (p | 0) !== p) return -1;
    level = p;
  }
  return level;
}

/** ConfigError unless `s.priority` (when given) is a level of a topic with `levels` priority levels; `at`: where it was given. */
export function checkPriority(s: PublishSettings, levels: number, at = 'priority'): void {
  if (s.priority >= levels) {
    throw new ConfigError(at, `\`${at}\` must be an integer from 0 to ${levels - 1} (the topic has \`priorities: ${levels}\`), got ${s.priority}`);
  }
}

/** `delayMs` of publish options or a batch entry (`at`: the option path prefix), given with `deliverAt` or not; 0 when absent. */
function delayOf(delayMs: unknown, deliverAt: unknown, at: string): number {
  if (delayMs === undefined) return 0;
  if (deliverAt !== undefined) {
    throw new ConfigError(`${at}delayMs`, `give \`${at}delayMs\` or \`${at}deliverAt\`, not both (got ${v.describe(delayMs)} and ${v.describe(deliverAt)})`);
  }
  return v.numberIn(`${at}delayMs`, delayMs, 0, Number.MAX_SAFE_INTEGER, 'a finite number of milliseconds ≥ 0');
}

/** `deliverAt` of publish options or a batch entry; 0 when absent. */
function deliverAtOf(deliverAt: unknown, at: string): number {
  if (deliverAt === undefined) return 0;
  return v.numberIn(`${at}deliverAt`, deliverAt, 0, Number.MAX_SAFE_INTEGER, 'a time in ms on the topic scheduler\'s clock (a finite number ≥ 0, e.g. `Date.now() + 60_000`)');
}

/**
 * Parses publish options. One pass over the keys the object lists (for...in: its enumerable keys,
 * own or inherited): each is checked to be an option and taken where it is listed, so a publish
 * pays for the options it gives, not for every option there is. Then the values are checked.
 */
export function publishSettings(options: PublishOptions | undefined): PublishSettings {
  let key: unknown, headers: unknown, ttlMs: unknown, signal: unknown, codec: unknown, compression: unknown, delayMs: unknown, deliverAt: unknown, priority: unknown;
  if (options !== undefined) {
    v.optionsObject('publish options', options);
    for (const k in options) {
      const x = (options as Record<string, unknown>)[k];
      switch (k) {
        case 'priority': priority = x; break;
        case 'key': key = x; break;
        case 'headers': headers = x; break;
        case 'ttlMs': ttlMs = x; break;
        case 'signal': signal = x; break;
        case 'codec': codec = x; break;
        case 'compression': compression = x; break;
        case 'delayMs': delayMs = x; break;
        case 'deliverAt': deliverAt = x; break;
        default: v.notAnOption('publish options', options, k, PUBLISH_KEYS);
      }
    }
  }
  if (key !== undefined && typeof key !== 'string') throw new ConfigError('key', `\`key\` must be a string, got ${v.describe(key)}`);
  return {
    key,
    headers: v.headers('headers', headers),
    ttlMs: ttlMs === undefined ? Infinity : v.positiveDuration('ttlMs', ttlMs),
    signal: v.signal('signal', signal),
    codec: codec === undefined ? undefined : (checkCodec('codec', codec), codec as Codec<any>),
    compression: compression === undefined ? undefined : (checkCompression('compression', compression), compression as Compression),
    delayMs: delayOf(delayMs, deliverAt, ''),
    deliverAt: deliverAtOf(deliverAt, ''),
    priority: priorityOf(priority, ''),
  };
}

const BATCH_KEYS = [...PUBLISH_KEYS, 'entries'] as const;
const ENTRY_KEYS = ['value', 'key', 'headers', 'ttlMs', 'delayMs', 'deliverAt', 'priority'] as const;

/** Parsed `publishBatch` options: the settings of every message, and whether the batch is of entries. */
export function batchSettings(options: BatchOptions): { settings: PublishSettings; entries: boolean } {
  const o = v.options<BatchOptions>('publishBatch options', options, BATCH_KEYS);
  if (o.entries !== undefined && typeof o.entries !== 'boolean') v.fail('entries', '`true` or `false`', o.entries);
  const entries = o.entries === true;
  const { entries: _, ...rest } = o;
  return { settings: publishSettings(rest), entries };
}

/** The settings of the batch entry at `index`: the batch's, with the entry's own key, headers and TTL. */
export function entrySettings(entry: unknown, index: number, batch: PublishSettings): { value: unknown; settings: PublishSettings } {
  const at = `entries[${index}]`;
  if (typeof entry !== 'object' || entry === null || !('value' in entry)) {
    throw new ConfigError(at, `\`${at}\` must be an object \`{ value, key?, headers?, ttlMs?, delayMs?, deliverAt?, priority? }\` (the batch has \`entries: true\`), got ${v.describe(entry)}`);
  }
  const e = v.options<{ value: unknown; key?: unknown; headers?: unknown; ttlMs?: unknown; delayMs?: unknown; deliverAt?: unknown; priority?: unknown }>(`\`${at}\``, entry, ENTRY_KEYS);
  const own = e.delayMs !== undefined || e.deliverAt !== undefined;
  const delay = own ? { delayMs: delayOf(e.delayMs, e.deliverAt, `${at}.`), deliverAt: deliverAtOf(e.deliverAt, `${at}.`) } : batch;
  if (e.key !== undefined && typeof e.key !== 'string') throw new ConfigError(`${at}.key`, `\`${at}.key\` must be a string, got ${v.describe(e.key)}`);
  return {
    value: e.value,
    settings: {
      key: e.key === undefined ? batch.key : e.key,
      headers: e.headers === undefined ? batch.headers : v.headers(`${at}.headers`, e.headers),
      ttlMs: e.ttlMs === undefined ? batch.ttlMs : v.positiveDuration(`${at}.ttlMs`, e.ttlMs),
      signal: batch.signal,
      codec: batch.codec,
      compression: batch.compression,
      delayMs: delay.delayMs,
      deliverAt: delay.deliverAt,
      priority: e.priority === undefined ? batch.priority : priorityOf(e.priority, `${at}.`),
    },
  };
}

const CONSUMER_KEYS = ['group', 'from', 'prefetch', 'filter', 'ack', 'signal', 'returnOnGc'] as const;

/** Validates consumer options (all faces share them). */
export function consumerOptions<T>(options: ConsumerOptions<T> | undefined): ConsumerOptions<T> {
  const o = v.options<ConsumerOptions<T>>('consumer options', options, CONSUMER_KEYS);
  if (o.group !== undefined) v.name('group', o.group);
  if (o.from !== undefined) {
    const f = o.from;
    if (typeof f === 'object' && f !== null && !Array.isArray(f)) v.integer('from.offset', (f as { offset: unknown }).offset, 0, Number.MAX_SAFE_INTEGER);
    else v.oneOf('from', f, ['earliest', 'latest', 'committed']);
    if (f === 'committed' && o.group === undefined) {
      throw new ConfigError('from', "`from: 'committed'` needs a `group`: a subscription without a group has no committed offset");
    }
  }
  if (o.prefetch !== undefined) v.integer('prefetch', o.prefetch, 1, 2 ** 20);
  v.fn('filter', o.filter);
  if (o.ack !== undefined) v.oneOf('ack', o.ack, ['manual', 'auto']);
  v.signal('signal', o.signal);
  if (o.returnOnGc !== undefined && typeof o.returnOnGc !== 'boolean') throw new ConfigError('returnOnGc', `\`returnOnGc\` must be a boolean, got ${v.describe(o.returnOnGc)}`);
  return o;
}
