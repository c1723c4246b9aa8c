import { DiscardPolicy, type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager, type StreamConfig, StorageType } from '@nats-io/jetstream';
import { connect, type NatsConnection, nuid } from '@nats-io/transport-node';
import type { Engine, EngineTopicOptions, TopicBackend } from '../engine.js';
import { ClosedError, ConfigError } from '../errors.js';
import { configDiffers, conflict, describeConfig, encodeName, type NatsTopicConfig, parseConfig, streamLimit, topicConfig } from './config.js';
import { notFound } from './group.js';
import type { NatsHost } from './host.js';
import { AckedPublisher } from './publisher.js';
import { AckBatch } from './pull.js';
import { NatsTopic } from './topic.js';

/**
 * A connection made by `connect()` of `@nats-io/transport-node` (or any other NATS v3 transport).
 * Described here by the little ringbus's types need, so that they do not pull the client's own
 * declarations into a program that imports `ringbus/nats` (they fail strict checks such as
 * `exactOptionalPropertyTypes` with `skipLibCheck: false`).
 */
export interface NatsConnectionLike {
  flush(): Promise<void>;
  isClosed(): boolean;
  drain(): Promise<void>;
}

/** Options of {@link natsEngine}: a connection to open (`servers`) or one the caller owns (`connection`). */
export type NatsEngineOptions = (
  | { /** Server URLs, e.g. `'nats://127.0.0.1:4222'`; the engine opens the connection and closes it with the bus. */ readonly servers: string | string[]; readonly connection?: undefined }
  | { /** A connection the caller opened and closes; the bus leaves it open. */ readonly connection: NatsConnectionLike; readonly servers?: undefined }
) & {
  /**
   * Prefix of every stream and subject name, so that several applications (or tests) share a
   * server without meeting: topic `t` is stream `<prefix>_<t encoded>` on subject `<prefix>.<t encoded>`.
   * Letters, digits, `-` and `_`. Default `'ringbus'`.
   */
  readonly prefix?: string;
  /** Where streams keep messages: `'file'` (default) or `'memory'`. */
  readonly streamStorage?: 'file' | 'memory';
};

/** What this engine refuses, and why (see docs/engines.md). */
export const NATS_LACKS: Readonly<Record<string, string>> = {
  scheduler: "JetStream's timers (ack wait, max age, nak delays) run on the server's clock",
  storage: 'JetStream keeps the messages: choose file or memory with `streamStorage`',
  codec: 'values cross as MessagePack; a codec of this thread does not reach other processes',
  compression: 'values cross as MessagePack; a codec of this thread does not reach other processes',
  returnOnGc: 'a delivery is held at the server; its ack timeout returns it',
  priorities: 'a consumer delivers in stream order; priority levels are not emulated',
  maxConsecutive: 'a consumer delivers in stream order; priority levels are not emulated',
  ordering: 'one message of a key in flight per group, across competing pull requests, is not emulated',
  delayMs: 'nats-server before 2.12 has no scheduled messages, and delays are not emulated',
  deliverAt: 'nats-server before 2.12 has no scheduled messages, and delays are not emulated',
};

class NatsEngine implements Engine, NatsHost {
  readonly name = 'nats';
  readonly capabilities = { lacks: NATS_LACKS };
  termReason = false;
  /** The connection and its JetStream handles, once connected (topics are opened only after). */
  private link: { readonly nc: NatsConnection; readonly js: JetStreamClient; readonly jsm: JetStreamManager; readonly publisher: AckedPublisher; readonly acks: AckBatch } | undefined = undefined;
  private connecting: Promise<void> | undefined = undefined;
  private closed = false;
  private readonly topics = new Map<string, Promise<NatsTopic>>();

  constructor(
    private readonly options: NatsEngineOptions,
    private readonly prefix: string,
  ) {}

  connect(): Promise<void> {
    this.connecting ??= this.open();
    return this.connecting;
  }

  private async open(): Promise<void> {
    const nc = (this.options.connection as NatsConnection | undefined) ?? (await connect({ servers: this.options.servers }));
    this.link = { nc, js: jetstream(nc), jsm: await jetstreamManager(nc), publisher: new AckedPublisher(nc), acks: new AckBatch(nc) };
    const [major = 0, minor = 0] = (nc.info?.version ?? '0.0.0').split('.').map(Number);
    this.termReason = major > 2 || (major === 2 && minor >= 10);
  }

  get nc(): NatsConnection {
    return this.connected().nc;
  }

  get js(): JetStreamClient {
    return this.connected().js;
  }

  get jsm(): JetStreamManager {
    return this.connected().jsm;
  }

  get acks(): AckBatch {
    return this.connected().acks;
  }

  publish(subject: string, data: Uint8Array): Promise<number> {
    return this.connected().publisher.publish(subject, data);
  }

  private connected(): NonNullable<NatsEngine['link']> {
    if (this.link === undefined) throw new ClosedError('the NATS engine is not connected');
    return this.link;
  }

  uniqueId(): string {
    return nuid.next();
  }

  flush(): Promise<void> {
    this.acks.send();
    return this.nc.flush();
  }

  openTopic(name: string, options?: EngineTopicOptions): Promise<TopicBackend> {
    if (this.closed) return Promise.reject(new ClosedError('the NATS engine is closed'));
    // a bus asks once per topic; asked again with options, the stream's config is checked again
    const opening = this.openStream(name, options);
    this.topics.set(name, opening);
    opening.catch(() => this.topics.delete(name));
    return opening;
  }

  private streamName(topic: string): string {
    return `${this.prefix}_${encodeName(topic)}`;
  }

  private async openStream(name: string, options: EngineTopicOptions | undefined): Promise<NatsTopic> {
    await this.connect();
    const stream = this.streamName(name);
    const subject = `${this.prefix}.${encodeName(name)}`;
    const asked = topicConfig(options);
    let info;
    try {
      info = await this.jsm.streams.info(stream);
    } catch (e) {
      if (!notFound(e)) throw e;
    }
    if (info !== undefined) {
      const have = parseConfig(info.config.description);
      if (have === undefined) throw new ConfigError('name', `stream \`${stream}\` (topic \`${name}\`) exists on the NATS server but was not made by ringbus`);
      if (options !== undefined) {
        const key = configDiffers(have, asked);
        if (key !== undefined) throw conflict(name, key, have[key], asked[key]);
      }
      const existing = this.topicOf(name, stream, subject, have, info);
      await existing.refresh();
      return existing;
    }
    try {
      info = await this.jsm.streams.add(this.streamConfig(stream, subject, asked));
    } catch (e) {
      // another process created it meanwhile: open it as it is
      info = await this.jsm.streams.info(stream).catch(() => {
        throw e;
      });
    }
    const config = parseConfig(info.config.description) ?? asked;
    const topic = this.topicOf(name, stream, subject, config, info);
    for (const group of config.groups) await topic.ensureConsumer(topic.groupState(group), 'earliest');
    await topic.refresh(); // the first snapshot shows the groups
    return topic;
  }

  private topicOf(name: string, stream: string, subject: string, config: NatsTopicConfig, info: Awaited<ReturnType<JetStreamManager['streams']['info']>>): NatsTopic {
    return new NatsTopic(this, name, stream, subject, config, info);
  }

  private streamConfig(name: string, subject: string, c: NatsTopicConfig): Partial<StreamConfig> & { name: string } {
    return {
      name,
      subjects: [subject],
      description: describeConfig(c),
      max_msgs: streamLimit(c),
      // drop-oldest: the server evicts the oldest itself; every other policy makes room in the client
      discard: c.overflow === 'drop-oldest' ? DiscardPolicy.Old : DiscardPolicy.New,
      max_age: c.ttlMs === null ? 0 : c.ttlMs * 1_000_000,
      storage: this.options.streamStorage === 'memory' ? StorageType.Memory : StorageType.File,
      num_replicas: 1,
    };
  }

  async existingTopic(name: string): Promise<NatsTopic | undefined> {
    const open = this.topics.get(name);
    if (open !== undefined) return open.catch(() => undefined);
    try {
      return await this.openTopicAsIs(name);
    } catch {
      return undefined;
    }
  }

  private async openTopicAsIs(name: string): Promise<NatsTopic | undefined> {
    const stream = this.streamName(name);
    const info = await this.jsm.streams.info(stream);
    const config = parseConfig(info.config.description);
    if (config === undefined) return undefined;
    const topic = this.topicOf(name, stream, `${this.prefix}.${encodeName(name)}`, config, info);
    this.topics.set(name, Promise.resolve(topic));
    return topic;
  }

  forget(name: string): void {
    this.topics.delete(name);
  }

  /** Closes the connection it opened; a caller's connection stays open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.link?.acks.send();
    for (const opening of this.topics.values()) void opening.then((t) => t.release(), () => undefined);
    if (this.options.connection === undefined && this.connecting !== undefined) {
      await this.connecting.catch(() => undefined);
      const nc = this.link?.nc;
      await nc?.drain().catch(() => nc.close());
    }
  }
}

/**
 * The NATS JetStream engine: `createBus({ engine: natsEngine({ servers }) })` keeps every topic in
 * a JetStream stream, so that Topics, Consumers and faces work across processes and machines.
 * Needs `@nats-io/jetstream` and `@nats-io/transport-node` (optional peer dependencies). See
 * docs/engines.md for what is native, emulated and refused.
 *
 * @example
 * ```ts
 * import { createBus } from 'ringbus';
 * import { natsEngine } from 'ringbus/nats';
 *
 * const bus = createBus({ engine: natsEngine({ servers: 'nats://127.0.0.1:4222' }) });
 * await bus.ready();
 * const jobs = bus.topic<string>('jobs', { groups: ['workers'], ackTimeoutMs: 10_000 });
 * await jobs.publish('hello');
 * for await (const d of jobs.consumer({ group: 'workers' })) { console.log(d.value); d.ack(); break; }
 * await bus.close();
 * ```
 */
export function natsEngine(options: NatsEngineOptions): Engine {
  if (typeof options !== 'object' || options === null) throw new ConfigError('options', '`natsEngine` needs `{ servers }` or `{ connection }`');
  const { servers, connection } = options;
  if ((servers === undefined) === (connection === undefined)) throw new ConfigError('servers', '`natsEngine` needs exactly one of `servers` and `connection`');
  if (servers !== undefined && !(typeof servers === 'string' || (Array.isArray(servers) && servers.length > 0 && servers.every((s) => typeof s === 'string')))) {
    throw new ConfigError('servers', '`servers` must be a URL string or a non-empty array of them');
  }
  if (connection !== undefined && (typeof connection !== 'object' || connection === null || typeof (connection as { request?: unknown }).request !== 'function')) {
    throw new ConfigError('connection', '`connection` must be a NatsConnection');
  }
  const prefix = options.prefix ?? 'ringbus';
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(prefix)) throw new ConfigError('prefix', '`prefix` must be 1 to 64 letters, digits, `-` or `_`');
  const storage = options.streamStorage;
  if (storage !== undefined && storage !== 'file' && storage !== 'memory') throw new ConfigError('streamStorage', "`streamStorage` must be 'file' or 'memory'");
  return new NatsEngine(options, prefix);
}
