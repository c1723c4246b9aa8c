import { asyncScheduler, Observable, type SchedulerLike, type Subscriber } from 'rxjs';
import { ClosedError, ConfigError } from '../../errors.js';
import type { BusOptions } from '../../bus-options.js';
import type { Bus, BusStats, Topic, TopicOptions, TopicStats } from '../../types.js';
import { statsStream } from '../faces/stats-stream.js';
import { inspectCustom, inspectFields, type Inspect } from '../inspect.js';
import { TopicImpl, type OpenStorage } from './topic.js';
import type { Storage } from '../../storage.js';
import { checkStorage, settingsDiffer, type TopicSettings, topicSettings } from '../topic-options.js';
import * as v from '../validate.js';

const BUS_KEYS = ['scheduler', 'storage', 'engine'] as const;

/** The topic registry. */
export class BusImpl implements Bus {
  private readonly topics = new Map<string, TopicImpl<unknown>>();
  /** @internal */
  readonly scheduler: SchedulerLike;
  private readonly storage: Storage | undefined;
  /** Set by `close()`: resolves once every topic is closed and its storage released. */
  private closing: Promise<void> | undefined = undefined;
  /** Subscribers of `stats$`, completed by `close()`. */
  /** @internal */
  readonly watchers = new Set<Subscriber<BusStats>>();

  /**
   * @param openStorage - opens a topic's store when the bus has `storage` (durable/open.ts): the
   *   composer of the engine (`createBus`, `memoryEngine`) gives it, so the memory engine never
   *   imports its durable side.
   */
  constructor(
    options: BusOptions | undefined,
    private readonly openStorage: OpenStorage,
  ) {
    const o = v.options<BusOptions>('bus options', options, BUS_KEYS);
    const s = o.scheduler;
    if (s !== undefined && (typeof s !== 'object' || s === null || typeof s.schedule !== 'function' || typeof s.now !== 'function')) {
      throw new ConfigError('scheduler', `\`scheduler\` must be an RxJS SchedulerLike (with \`now()\` and \`schedule()\`), got ${v.describe(s)}`);
    }
    this.scheduler = s ?? asyncScheduler;
    this.storage = checkStorage('storage', o.storage);
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /**
   * A bus with one topic and one durable group that has published, delivered, acked and closed,
   * kept as long as the class, for the reason given at `DeliveryImpl.anchor`: a closed topic keeps
   * no timer, so a program that makes a topic, drains it and closes it leaves none alive at the
   * next full GC, and the hidden classes of the topic, its ring and its group would die with it,
   * throwing away every optimized function built on them.
   * @internal
   */
  static readonly anchor: unknown = BusImpl.inert();

  private static inert(): BusImpl {
    const bus = new BusImpl(undefined, refuseStorage);
    const t = bus.topic<number>('anchor', { capacity: 2, groups: ['g'] });
    t.tryPublish(0);
    const c = t.consumer({ group: 'g' });
    c.tryRecv()?.ack();
    c.close();
    void t.close();
    return bus;
  }

  topic<T>(name: string, options?: TopicOptions): Topic<T> {
    const settings = topicSettings(name, options, this.scheduler, this.storage);
    const existing = this.topics.get(name);
    if (existing !== undefined) {
      if (options !== undefined) {
        const differs = settingsDiffer(existing.settings, settings);
        if (differs !== undefined) throw differentOptions(name, differs, existing.settings, settings);
      }
      return existing as unknown as Topic<T>;
    }
    if (this.closing !== undefined) throw new ClosedError(`the bus is closed: topic \`${name}\` cannot be created`);
    const dl = settings.deadLetter;
    if (dl !== undefined && !this.topics.has(dl)) this.checkDeadLetter(dl);
    const t = new TopicImpl<T>(name, settings, this, this.openStorage);
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
  deadLetterTopic(name: string): TopicImpl<unknown> | undefined {
    const t = this.topics.get(name);
    if (t !== undefined || this.closing !== undefined) return t; // a closed bus creates nothing: the dead letter is counted as dropped
    return this.topic(name) as TopicImpl<unknown>;
  }

  has(name: string): boolean {
    return this.topics.has(name);
  }

  /**
   * The memory engine has nothing to connect to: resolves once every topic made so far has its
   * storage open and recovered, or rejects with the `StorageError` of one that could not open.
   */
  ready(): Promise<void> {
    const opening: Promise<void>[] = [];
    for (const t of this.topics.values()) if (t.persistent) opening.push(t.ready);
    if (opening.length === 0) return Promise.resolve();
    return Promise.all(opening).then(() => {
      for (const t of this.topics.values()) if (t.openError !== undefined) throw t.openError;
    });
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

  /** `console.log(bus)`: the names of its topics. */
  [inspectCustom](depth: number, options: object, inspect?: Inspect): string {
    return inspectFields('Bus', { topics: [...this.topics.keys()] }, depth, options, inspect);
  }

  stats(): BusStats {
    const topics: Record<string, TopicStats> = {};
    for (const [name, t] of this.topics) topics[name] = t.stats();
    return { timestamp: this.scheduler.now(), topics };
  }

  stats$(ms: number): Observable<BusStats> {
    return statsStream(this, ms);
  }

  /**
   * Closes every topic, completes every `stats$` and refuses new topics; resolves once every
   * topic's storage is flushed and released. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.closing ??= this.closeAll();
    return this.closing;
  }

  private async closeAll(): Promise<void> {
    for (const w of [...this.watchers]) w.complete();
    const topics = [...this.topics.values()];
    await Promise.all(topics.map((t) => t.close()));
    await Promise.all(topics.map((t) => t.release()));
  }
}

/** The anchor's bus has no storage, so nothing opens a store. */
function refuseStorage(): Promise<void> {
  return Promise.reject(new Error('the anchor bus has no storage'));
}

/** The `ConfigError` for a topic asked again with another value of `option`: both values shown. */
function differentOptions(name: string, option: string, there: TopicSettings, asked: TopicSettings): ConfigError {
  const key = option as keyof TopicSettings;
  let hint = '';
  if (key === 'groups') {
    hint =
      '; a topic\'s groups are fixed when it is created (ask without options to get it as it is).' +
      ' Each named group gates retention from the start: past `capacity`, `publish` waits until that group has a member settling messages';
  }
  return new ConfigError(option, `topic \`${name}\` exists with a different \`${option}\`: ${v.describe(there[key])} there, ${v.describe(asked[key])} asked${hint}`);
}
