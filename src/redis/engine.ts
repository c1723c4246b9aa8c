import { asyncScheduler } from 'rxjs';
import { createClient, RESP_TYPES } from 'redis';
import type { Engine, EngineTopicOptions, TopicBackend } from '../engine.js';
import { ConfigError } from '../errors.js';
import { topicSettings } from '../internal/topic-options.js';
import { RedisBackend } from './backend.js';
import type { EngineLink } from './link.js';
import { FUNCTION, LIBRARY } from './lua-ops.js';

/** What the engine uses of a node-redis client (`createClient()` from `redis`, any modules or RESP version). */
export interface RedisClient {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
  duplicate(): RedisClient;
  on(event: 'error', listener: (error: Error) => void): unknown;
  sendCommand(args: ReadonlyArray<string | Buffer>): Promise<unknown>;
  withTypeMapping(mapping: { [RESP_TYPES.BLOB_STRING]: typeof Buffer }): { sendCommand(args: ReadonlyArray<string | Buffer>): Promise<unknown> };
}

/** Options of {@link redisEngine}: `url` (the engine owns its connection) or `client` (the caller's). */
export interface RedisEngineOptions {
  /** `redis://host:port`: the engine connects, and closes the connection with the bus. */
  readonly url?: string;
  /** A node-redis client the caller owns (connected here if it is not yet; never closed here). */
  readonly client?: RedisClient;
  /** First part of every key: a topic `t` lives under `<prefix>:{t}:…`. Default `'rb'`. */
  readonly prefix?: string;
  /** How often a member with demand and nothing new looks again (redeliveries, other processes' publishes). Default `50`. */
  readonly pollMs?: number;
  /** A member not heard from for this long (its process died) leaves its group; what it held goes back. Default `10000`. */
  readonly leaseMs?: number;
  /** How often a topic's figures are refreshed and its housekeeping (TTL, leases) runs. Default `1000`. */
  readonly janitorMs?: number;
}

/** What this engine refuses, and why (see docs/engines.md). */
export const REDIS_LACKS: Readonly<Record<string, string>> = {
  scheduler: "Redis keeps the timers (ack timeouts, nack delays, TTL) on the server's clock",
  storage: 'Redis is the storage',
  codec: 'values are stored as MessagePack in the stream entry; a topic codec is not sent to the engine',
  compression: 'values are stored as MessagePack in the stream entry; a topic codec is not sent to the engine',
  returnOnGc: "a delivery lives in the server's pending list; its ack timeout returns it",
  'overflow:grow': 'a stream has one capacity; growing and shrinking it is not emulated',
  priorities: 'a group reads a stream in id order; priority levels are not emulated',
  maxConsecutive: 'a group reads a stream in id order; priority levels are not emulated',
  ordering: 'one message of a key in flight per group, across its consumers, is not emulated',
  delayMs: 'an entry is visible to every group once added; delays are not emulated',
  deliverAt: 'an entry is visible to every group once added; delays are not emulated',
};

/** Options as stored with a topic (compared when another bus opens it with options). */
function canonical(name: string, options: EngineTopicOptions | undefined): { json: string; s: ReturnType<typeof topicSettings> } {
  const s = topicSettings(name, options, asyncScheduler);
  const finite = (n: number): number | null => (n === Infinity ? null : n);
  const json = JSON.stringify({
    capacity: s.capacity,
    overflow: s.overflow,
    ttlMs: finite(s.ttlMs),
    groups: s.groups,
    ackTimeoutMs: finite(s.ackTimeoutMs),
    maxDeliveries: finite(s.maxDeliveries),
    deadLetter: s.deadLetter ?? null,
  });
  return { json, s };
}

function positive(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) throw new ConfigError(option, `\`${option}\` must be a finite number > 0, got ${String(value)}`);
  return value;
}

/** The Redis engine: see {@link redisEngine}. */
export class RedisEngine implements Engine, EngineLink {
  readonly name = 'redis';
  readonly capabilities = { lacks: REDIS_LACKS };
  readonly prefix: string;
  readonly pollMs: number;
  readonly leaseMs: number;
  readonly janitorMs: number;
  private readonly client: RedisClient;
  private readonly owned: boolean;
  private readonly cmd: { sendCommand(args: ReadonlyArray<string | Buffer>): Promise<unknown> };
  private connecting: Promise<void> | undefined = undefined;
  private readonly backends = new Set<RedisBackend>();
  /** The connection of the blocking `XREAD` that wakes waiting members when an entry arrives (a blocked connection serves nothing else). */
  private watcher: RedisClient | undefined = undefined;
  private watching = false;
  private closed = false;
  /** Streams with a member waiting, and the last id seen on each. */
  private readonly watched = new Map<RedisBackend, string>();

  constructor(options: RedisEngineOptions) {
    if (typeof options !== 'object' || options === null) throw new ConfigError('options', '`redisEngine` takes `{ url }` or `{ client }`');
    if ((options.url === undefined) === (options.client === undefined)) throw new ConfigError('url', '`redisEngine` takes exactly one of `url` and `client`');
    if (options.url !== undefined && typeof options.url !== 'string') throw new ConfigError('url', `\`url\` must be a string such as 'redis://127.0.0.1:6379', got ${String(options.url)}`);
    const prefix = options.prefix ?? 'rb';
    if (typeof prefix !== 'string' || prefix.length === 0 || /[{}]/.test(prefix)) throw new ConfigError('prefix', `\`prefix\` must be a non-empty string without braces, got ${String(prefix)}`);
    this.prefix = prefix;
    this.pollMs = positive('pollMs', options.pollMs, 50);
    this.leaseMs = positive('leaseMs', options.leaseMs, 10_000);
    this.janitorMs = positive('janitorMs', options.janitorMs, 1000);
    this.owned = options.client === undefined;
    this.client = options.client ?? (createClient({ url: options.url! }) as unknown as RedisClient);
    if (this.owned) this.client.on('error', () => undefined); // seen by the calls that fail
    this.cmd = this.client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  }

  connect(): Promise<void> {
    this.connecting ??= (async () => {
      if (!this.client.isOpen) await this.client.connect();
      const info = String(await this.client.sendCommand(['INFO', 'server']));
      const version = /redis_version:(\d+)/.exec(info)?.[1];
      if (version !== undefined && Number(version) < 7) throw new ConfigError('url', `the redis engine needs Redis 7.0 or newer (XADD with \`0-*\` ids), the server is ${version}`);
      await this.load();
    })();
    return this.connecting;
  }

  /** Loads the engine's function library (again, if the server lost it: a restart without persistence, `FUNCTION FLUSH`). */
  private async load(): Promise<void> {
    await this.client.sendCommand(['FUNCTION', 'LOAD', 'REPLACE', LIBRARY]);
  }

  get ready(): boolean {
    return this.client.isReady;
  }

  send(args: (string | Buffer)[]): Promise<unknown> {
    return this.cmd.sendCommand(args);
  }

  /** Runs one operation of the engine's function on topic `topic`. */
  run(op: string, topic: string, args: (string | Buffer)[]): Promise<unknown> {
    const call = ['FCALL', FUNCTION, '1', `${this.prefix}:{${topic}}:s`, op, this.prefix, topic, ...args];
    return this.cmd.sendCommand(call).catch((e: unknown) => {
      if (!(e instanceof Error) || !e.message.includes('Function not found')) throw e;
      return this.load().then(() => this.cmd.sendCommand(call));
    });
  }

  async openTopic(name: string, options?: EngineTopicOptions): Promise<TopicBackend> {
    const { json, s } = canonical(name, options);
    const reply = (await this.run('open', name, [
      options === undefined ? '' : json,
      json,
      String(s.capacity),
      s.overflow,
      String(s.ttlMs === Infinity ? 0 : s.ttlMs),
      String(s.ackTimeoutMs === Infinity ? 0 : s.ackTimeoutMs),
      String(s.maxDeliveries === Infinity ? 0 : s.maxDeliveries),
      s.deadLetter ?? '',
      JSON.stringify(s.groups),
    ])) as [Buffer, Buffer];
    const stored = JSON.parse(reply[1].toString()) as Record<string, unknown>;
    if (reply[0].toString() === 'CONFLICT') {
      const asked = JSON.parse(json) as Record<string, unknown>;
      const key = Object.keys(asked).find((k) => JSON.stringify(asked[k]) !== JSON.stringify(stored[k])) ?? 'options';
      throw new ConfigError(key, `topic \`${name}\` exists on redis with a different \`${key}\`: ${JSON.stringify(stored[key])} there, ${JSON.stringify(asked[key])} asked`);
    }
    const ack = stored['ackTimeoutMs'];
    const backend = new RedisBackend(this, name, stored['overflow'] as 'block', typeof ack === 'number' ? ack : Infinity, stored['capacity'] as number);
    this.backends.add(backend);
    await backend.refresh();
    return backend;
  }

  /**
   * A member of `backend` found nothing: the watcher wakes it as soon as an entry is added to the
   * stream by any process (the member's own poll still runs, for redeliveries).
   */
  watch(backend: RedisBackend): void {
    if (this.closed) return;
    // from the last entry a fetch saw, so an entry added before the blocking read starts still wakes it
    const from = `0-${backend.lastSeen}`;
    const known = this.watched.get(backend);
    if (known === undefined || Number(known.slice(2)) < backend.lastSeen) this.watched.set(backend, from);
    if (!this.watching) {
      this.watching = true;
      void this.watchLoop();
    }
  }

  private async watchLoop(): Promise<void> {
    try {
      if (this.watcher === undefined) {
        this.watcher = this.client.duplicate();
        this.watcher.on('error', () => undefined);
        await this.watcher.connect();
      }
      while (!this.closed && this.watched.size > 0) {
        const streams = [...this.watched.keys()];
        const args = ['XREAD', 'COUNT', '1', 'BLOCK', String(Math.max(1, Math.round(this.pollMs * 4))), 'STREAMS'];
        for (const b of streams) args.push(`${this.prefix}:{${b.name}}:s`);
        for (const b of streams) args.push(this.watched.get(b)!);
        const reply = (await this.watcher.sendCommand(args)) as [string, [string, string[]][]][] | Record<string, unknown> | null;
        const arrived = new Set<string>();
        if (Array.isArray(reply)) {
          for (const [key, entries] of reply) {
            const b = streams.find((s) => `${this.prefix}:{${s.name}}:s` === String(key));
            const last = entries[entries.length - 1];
            if (b !== undefined && last !== undefined) {
              this.watched.set(b, String(last[0]));
              arrived.add(b.name);
            }
          }
        } else if (reply !== null && typeof reply === 'object') {
          for (const [key, entries] of Object.entries(reply)) {
            const b = streams.find((s) => `${this.prefix}:{${s.name}}:s` === key);
            const list = entries as [string, unknown][];
            const last = list[list.length - 1];
            if (b !== undefined && last !== undefined) {
              this.watched.set(b, String(last[0]));
              arrived.add(b.name);
            }
          }
        }
        for (const b of streams) {
          if (arrived.has(b.name) || b.waiters() === 0) {
            if (arrived.has(b.name)) b.wakeMembers();
            if (b.waiters() === 0) this.watched.delete(b);
          }
        }
      }
    } catch {
      // the members' own polls carry on
    } finally {
      this.watching = false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.destroy();
    await Promise.all([...this.backends].map((b) => b.detach()));
    this.backends.clear();
    if (this.owned && this.client.isOpen) await this.client.close();
  }
}
