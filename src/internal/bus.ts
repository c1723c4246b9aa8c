import { asyncScheduler, Observable, type SchedulerLike } from 'rxjs';
import { ConfigError } from '../errors.js';
import type { Bus, BusOptions, BusStats, Topic, TopicOptions, TopicStats } from '../types.js';
import { scheduleUnref } from './timer.js';
import { TopicImpl } from './topic.js';
import type { Storage } from '../storage.js';
import { checkStorage, settingsDiffer, topicSettings } from './topic-options.js';
import * as v from './validate.js';

const BUS_KEYS = ['scheduler', 'storage'] as const;

/** The topic registry. */
export class BusImpl implements Bus {
  private readonly topics = new Map<string, TopicImpl<unknown>>();
  private readonly scheduler: SchedulerLike;
  private readonly storage: Storage | undefined;

  constructor(options?: BusOptions) {
    const o = v.options<BusOptions>('bus options', options, BUS_KEYS);
    const s = o.scheduler;
    if (s !== undefined && (typeof s !== 'object' || s === null || typeof s.schedule !== 'function' || typeof s.now !== 'function')) {
      throw new ConfigError('scheduler', `\`scheduler\` must be an RxJS SchedulerLike (with \`now()\` and \`schedule()\`), got ${v.describe(s)}`);
    }
    this.scheduler = s ?? asyncScheduler;
    this.storage = checkStorage('storage', o.storage);
  }

  topic<T>(name: string, options?: TopicOptions): Topic<T> {
    const settings = topicSettings(name, options, this.scheduler, this.storage);
    const existing = this.topics.get(name);
    if (existing !== undefined) {
      if (options !== undefined) {
        const differs = settingsDiffer(existing.settings, settings);
        if (differs !== undefined) {
          throw new ConfigError(differs, `topic \`${name}\` exists with a different \`${differs}\` (${v.describe(existing.settings[differs as keyof typeof settings])} there, ${v.describe(settings[differs as keyof typeof settings])} asked)`);
        }
      }
      return existing as unknown as Topic<T>;
    }
    const dl = settings.deadLetter;
    if (dl !== undefined && !this.topics.has(dl)) this.checkDeadLetter(dl);
    const t = new TopicImpl<T>(name, settings, this);
    this.topics.set(name, t as TopicImpl<unknown>);
    return t;
  }

  /** The bus storage will open the dead-letter topic when the first dead letter comes: it must be able to keep its name. */
  private checkDeadLetter(name: string): void {
    try {
      this.storage?.checkName?.(name);
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigError('deadLetter', `\`deadLetter\`: ${e.message}`, { cause: e });
      throw e;
    }
  }

  /** Dead letters go to the named topic, created with default options when missing. */
  deadLetterTopic(name: string): TopicImpl<unknown> {
    return (this.topics.get(name) ?? this.topic(name)) as TopicImpl<unknown>;
  }

  has(name: string): boolean {
    return this.topics.has(name);
  }

  deleteTopic(name: string): Promise<boolean> {
    const t = this.topics.get(name);
    if (t === undefined) return Promise.resolve(false);
    this.topics.delete(name);
    return t.destroy().then(() => true);
  }

  stats(): BusStats {
    const topics: Record<string, TopicStats> = {};
    for (const [name, t] of this.topics) topics[name] = t.stats();
    return { timestamp: this.scheduler.now(), topics };
  }

  stats$(ms: number): Observable<BusStats> {
    v.positiveDuration('ms', ms);
    if (ms === Infinity) v.duration('ms', ms, 1, false);
    return new Observable<BusStats>((subscriber) => {
      let sub = scheduleUnref(this.scheduler, ms, tick);
      const self = this;
      function tick(): void {
        subscriber.next(self.stats());
        if (!subscriber.closed) sub = scheduleUnref(self.scheduler, ms, tick);
      }
      return () => sub.unsubscribe();
    });
  }

  /** Closes every topic and flushes and releases its storage. */
  async close(): Promise<void> {
    for (const t of this.topics.values()) await t.close();
    for (const t of this.topics.values()) await t.release();
  }
}
