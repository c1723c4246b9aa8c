import { asyncScheduler, Observable, type Subscriber } from 'rxjs';
import type { Engine, EngineTopicOptions } from '../../engine.js';
import { ClosedError, ConfigError } from '../../errors.js';
import type { BusOptions } from '../../bus-options.js';
import type { Bus, BusStats, Topic, TopicOptions, TopicStats } from '../../types.js';
import { settingsDiffer, topicSettings } from '../topic-options.js';
import * as v from '../validate.js';
import { statsStream } from '../faces/stats-stream.js';
import { EngineTopic, refuseLacking } from './engine-topic.js';

const BUS_KEYS = ['scheduler', 'storage', 'engine'] as const;

/** Topic options that are plain data and cross to the engine as given. */
const DATA_KEYS = ['capacity', 'overflow', 'growthFactor', 'maxCapacity', 'shrinkThreshold', 'ttlMs', 'groups', 'ackTimeoutMs', 'maxDeliveries', 'deadLetter', 'priorities', 'maxConsecutive', 'ordering'] as const;

/** Topic options that are objects of this thread (functions inside): an engine across a boundary lacks them. */
const LOCAL_KEYS = ['scheduler', 'codec', 'compression', 'storage'] as const;

/**
 * `Bus` over an engine other than memory: each topic is an {@link EngineTopic} over a backend the
 * engine opens. Options are validated here, synchronously, as on the memory bus; what the engine
 * lacks is refused with a `ConfigError` naming the engine and the option.
 */
export class EngineBus implements Bus {
  private readonly topics = new Map<string, EngineTopic<unknown>>();
  private readonly connected: Promise<void>;
  private closing: Promise<void> | undefined = undefined;
  /** @internal */
  readonly watchers = new Set<Subscriber<BusStats>>();
  /** @internal Timers of `stats$` (wall clock: the engine keeps every other timer). */
  readonly scheduler = asyncScheduler;

  constructor(
    private readonly engine: Engine,
    options: BusOptions,
  ) {
    const o = v.options<BusOptions>('bus options', options, BUS_KEYS);
    refuseLacking(engine, 'scheduler', o.scheduler);
    refuseLacking(engine, 'storage', o.storage);
    this.connected = engine.connect();
    this.connected.catch(() => undefined); // seen through ready() and every topic call
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  ready(): Promise<void> {
    return this.connected;
  }

  topic<T>(name: string, options?: TopicOptions<T>): Topic<T> {
    const settings = topicSettings(name, options, asyncScheduler);
    if (options !== undefined) {
      for (const key of LOCAL_KEYS) refuseLacking(this.engine, key, options[key]);
      if (settings.overflow !== 'block' && settings.overflow !== 'reject') refuseLacking(this.engine, `overflow:${settings.overflow}`, true);
      if (settings.priorities > 1) refuseLacking(this.engine, 'priorities', settings.priorities);
      if (settings.maxConsecutive !== Infinity) refuseLacking(this.engine, 'maxConsecutive', settings.maxConsecutive);
      if (settings.ordering !== 'none') refuseLacking(this.engine, 'ordering', settings.ordering);
    }
    const existing = this.topics.get(name);
    if (existing !== undefined) {
      const differs = options === undefined ? undefined : settingsDiffer(existing.settings, settings);
      if (differs !== undefined) {
        const key = differs as keyof typeof settings;
        throw new ConfigError(differs, `topic \`${name}\` exists with a different \`${differs}\`: ${v.describe(existing.settings[key])} there, ${v.describe(settings[key])} asked`);
      }
      return existing as unknown as Topic<T>;
    }
    if (this.closing !== undefined) throw new ClosedError(`the bus is closed: topic \`${name}\` cannot be created`);
    let data: Record<string, unknown> | undefined;
    if (options !== undefined) {
      data = {};
      for (const key of DATA_KEYS) if (options[key] !== undefined) data[key] = key === 'groups' ? [...options[key]!] : options[key];
    }
    const backend = this.connected.then(() => this.engine.openTopic(name, data as EngineTopicOptions | undefined));
    backend.catch(() => undefined); // seen by every call on the topic
    const t = new EngineTopic<T>(name, settings, this.engine, backend);
    this.topics.set(name, t as EngineTopic<unknown>);
    return t;
  }

  has(name: string): boolean {
    return this.topics.has(name);
  }

  deleteTopic(name: string): Promise<boolean> {
    if (typeof name !== 'string' || name.length === 0) {
      return Promise.reject(new ConfigError('name', `\`name\` must be a non-empty string, got ${v.describe(name)}`));
    }
    const t = this.topics.get(name);
    if (t === undefined) return Promise.resolve(false);
    this.topics.delete(name);
    return t.destroy().then(() => true);
  }

  stats(): BusStats {
    const topics: Record<string, TopicStats> = {};
    for (const [name, t] of this.topics) topics[name] = t.stats();
    return { timestamp: Date.now(), topics };
  }

  stats$(ms: number): Observable<BusStats> {
    return statsStream(this, ms);
  }

  /**
   * Closes this bus's consumers (what they hold returns to their groups), refuses further
   * publishes through it, and closes the engine's connection. The engine's topics stay open for
   * the other buses sharing them: `topic.close()` closes one for every bus.
   */
  close(): Promise<void> {
    this.closing ??= this.closeAll();
    return this.closing;
  }

  private async closeAll(): Promise<void> {
    for (const w of [...this.watchers]) w.complete();
    for (const t of this.topics.values()) t.detach();
    await this.engine.close();
  }
}
