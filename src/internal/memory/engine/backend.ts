import type { Engine, EngineCapabilities, EngineTopicOptions, MemberOptions, MemberPort, PublishEntry, TopicBackend } from '../../../engine.js';
import type { BatchEntry, Bus, Topic, TopicStats } from '../../../types.js';
import { ConsumerMember, portOf } from './member.js';

/** A publish entry as a batch entry of `publishBatch(entries, { entries: true })`: only the fields given. */
function batchEntry(e: PublishEntry): BatchEntry<unknown> {
  const out: { -readonly [K in keyof BatchEntry<unknown>]: BatchEntry<unknown>[K] } = { value: e.value };
  if (e.key !== undefined) out.key = e.key;
  if (e.headers !== undefined) out.headers = e.headers;
  if (e.ttlMs !== undefined) out.ttlMs = e.ttlMs;
  if (e.delayMs !== undefined) out.delayMs = e.delayMs;
  if (e.deliverAt !== undefined) out.deliverAt = e.deliverAt;
  if (e.priority !== undefined) out.priority = e.priority;
  return out;
}

/** What a topic of the memory bus says of its store while it opens. */
interface Opening {
  readonly ready: Promise<void>;
  readonly openError: Error | undefined;
}

/** A {@link TopicBackend} over a topic of a bus in this thread. */
export class BusTopicBackend implements TopicBackend {
  constructor(
    private readonly bus: Bus,
    private readonly topic: Topic<unknown>,
  ) {}

  /** One batch: refused whole, or withdrawn whole when `signal` aborts while it waits for room. */
  publish(entries: readonly PublishEntry[], signal?: AbortSignal): Promise<number[]> {
    return this.topic.publishBatch(entries.map(batchEntry), signal === undefined ? { entries: true } : { entries: true, signal });
  }

  openMember<T>(options: MemberOptions): MemberPort<T> {
    const c = portOf((this.topic as Topic<T>).consumer(options));
    return new ConsumerMember<T>(c, options.prefetch);
  }

  deleteGroup(name: string): Promise<boolean> {
    try {
      return Promise.resolve(this.topic.deleteGroup(name));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The topic's figures as they are now. */
  stats(): TopicStats {
    return this.topic.stats();
  }

  close(): Promise<void> {
    return this.topic.close();
  }

  destroy(): Promise<void> {
    return this.bus.deleteTopic(this.topic.name).then(() => undefined);
  }
}

/**
 * An {@link Engine} over a bus in this thread: each topic it opens is the bus's topic of that name.
 * `serveBus` serves one over a port; the memory engine is one over a bus of its own, which its
 * `close()` closes.
 */
export class BusEngine implements Engine {
  constructor(
    readonly name: string,
    readonly capabilities: EngineCapabilities,
    private readonly bus: Bus,
    private readonly owned: boolean,
  ) {}

  /** Buses connected and not closed: the last `close()` closes an owned bus. */
  private users = 0;

  connect(): Promise<void> {
    this.users++;
    return this.bus.ready();
  }

  /** Resolves once the topic's store (if any) has opened and recovered; rejects with its `StorageError` when it could not. */
  async openTopic(name: string, options?: EngineTopicOptions): Promise<TopicBackend> {
    const topic = this.bus.topic(name, options) as Topic<unknown> & Partial<Opening>;
    if (topic.ready !== undefined) await topic.ready;
    if (topic.openError !== undefined) throw topic.openError;
    return new BusTopicBackend(this.bus, topic);
  }

  /** The topic at once (throws what the bus refuses): calls on a topic whose store is still opening wait for it. */
  backend(name: string, options?: EngineTopicOptions): TopicBackend {
    return new BusTopicBackend(this.bus, this.bus.topic(name, options));
  }

  /**
   * The memory engine's bus closes (its storage flushed and released) once every bus connected to
   * it has closed; a served bus stays open.
   */
  close(): Promise<void> {
    this.users--;
    return this.owned && this.users <= 0 ? this.bus.close() : Promise.resolve();
  }
}
