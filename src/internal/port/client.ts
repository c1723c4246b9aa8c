import type { Engine, EngineTopicOptions, MemberOptions, MemberPort, PublishEntry, TopicBackend } from '../../engine.js';
import { ClosedError, ConfigError, TimeoutError } from '../../errors.js';
import type { TopicStats } from '../../types.js';
import { PortMember } from './member.js';
import { holdLease, leaseName, watchLease } from './lease.js';
import { type Call, type ClientMessage, fromColumns, fromWire, listen, type MessagePortLike, PROTOCOL_VERSION, type ServerMessage, unref, type Welcome, type WireEntry } from './protocol.js';

/** Options of {@link portEngine}. */
export interface PortEngineOptions {
  /**
   * Sends a heartbeat this often, so the server can tell this client is gone where a port has no
   * close event and there is no Web Locks API to learn it from: after `missedHeartbeats` (server
   * option, default 3) silent periods it closes this client's members. `0` sends none
   * (worker_threads ports report closing). Default `1000`.
   */
  readonly heartbeatMs?: number;
  /** `bus.ready()` rejects with `TimeoutError` when the server has not answered within this time. Default `10000`. */
  readonly connectTimeoutMs?: number;
}

const LACKS = {
  scheduler: "the served bus's timers run in its own thread, on its own scheduler",
  storage: 'storage belongs to the served bus: give it to createBus where the bus is served',
  codec: "a codec's functions cannot cross a MessagePort; values cross as structured clones",
  compression: "compression belongs to a codec, whose functions cannot cross a MessagePort",
  returnOnGc: 'a delivery lives in two threads here; its ack timeout returns it',
};

interface Pending {
  resolve(value: unknown): void;
  reject(e: unknown): void;
  backend: PortBackend | undefined;
}

/** The client end of the protocol: one per port. */
class PortClient implements Engine {
  readonly name = 'port';
  readonly capabilities = { lacks: LACKS };
  private readonly calls = new Map<number, Pending>();
  readonly members = new Map<number, PortMember<unknown>>();
  private queue: ClientMessage[] = [];
  private readonly dirty = new Set<PortMember<unknown>>();
  private flushing = false;
  private nextId = 0;
  private stop: (() => void) | undefined = undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined = undefined;
  private connecting: Promise<void> | undefined = undefined;
  /** Set once the connection is lost or closed: every call rejects with it. */
  private lost: Error | undefined = undefined;
  /** Releases the Web Lock this client holds while it lives (lease.ts). */
  private releaseLease: (() => void) | undefined = undefined;
  /** Stops waiting for the Web Lock the server holds while it serves. */
  private stopWatching: (() => void) | undefined = undefined;

  constructor(
    private readonly port: MessagePortLike,
    private readonly heartbeatMs: number,
    private readonly connectTimeoutMs: number,
  ) {}

  connect(): Promise<void> {
    this.connecting ??= this.open();
    return this.connecting;
  }

  private async open(): Promise<void> {
    this.stop = listen(
      this.port,
      (data) => {
        for (const m of data as ServerMessage[]) this.receive(m);
      },
      () => this.fail(new ClosedError('the port to the served bus closed')),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = unref(setTimeout(() => reject(new TimeoutError(`the served bus did not answer within ${this.connectTimeoutMs} ms`)), this.connectTimeoutMs));
    });
    const hello = async (): Promise<unknown> => {
      const lock = await this.holdLease();
      const welcome = (await this.call({ op: 'hello', version: PROTOCOL_VERSION, heartbeatMs: this.heartbeatMs, ...(lock === undefined ? {} : { lock }) })) as Welcome;
      if (welcome.lock !== undefined) this.watchServer(welcome.lock);
      return welcome;
    };
    try {
      await Promise.race([hello(), timeout]);
    } finally {
      clearTimeout(timer);
    }
    if (this.heartbeatMs > 0) this.heartbeat = unref(setInterval(() => this.send({ op: 'ping' }), this.heartbeatMs));
  }

  /** Holds a Web Lock while this client lives, for the server to watch; its name, where there are Web Locks. */
  private async holdLease(): Promise<string | undefined> {
    const name = leaseName('client');
    const release = name === undefined ? undefined : await holdLease(name);
    if (release === undefined) return undefined;
    if (this.lost !== undefined) release();
    else this.releaseLease = release;
    return name;
  }

  /** The server's page or worker ending (a SharedWorker's renderer crashing) releases its lock: the bus is gone. */
  private watchServer(name: string): void {
    const stop = watchLease(
      name,
      () => this.fail(new ClosedError('the served bus is gone: the page or worker serving it ended')),
      () => undefined, // not watched: calls then wait for answers that never come, as without Web Locks
    );
    if (this.lost !== undefined) stop?.();
    else this.stopWatching = stop;
  }

  async openTopic(name: string, options?: EngineTopicOptions): Promise<TopicBackend> {
    const backend = new PortBackend(this, this.nextId++);
    await this.call({ op: 'topic', topic: backend.handle, name, options }, backend);
    return backend;
  }

  /** Says goodbye (the server answers once it has handled everything sent before), then closes the port. */
  close(): Promise<void> {
    this.closing ??= this.goodbye();
    return this.closing;
  }

  private closing: Promise<void> | undefined = undefined;

  private async goodbye(): Promise<void> {
    // the server lets go of its lock once it has said goodbye: that is no loss
    this.stopWatching?.();
    if (this.connecting !== undefined && this.lost === undefined) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<void>((resolve) => (timer = unref(setTimeout(resolve, this.connectTimeoutMs))));
      await Promise.race([this.call({ op: 'bye' }).catch(() => undefined), late]);
      clearTimeout(timer);
    }
    this.fail(new ClosedError('the bus is closed'));
    try {
      this.port.close?.();
    } catch {
      // a port already closed
    }
  }

  /**
   * A call: resolves with the server's answer, rejects with its error (the same class). A `signal`
   * that aborts first withdraws it on the server (a publish waiting for room is not published).
   */
  call(c: Call, backend?: unknown, signal?: AbortSignal): Promise<unknown> {
    if (this.lost !== undefined) return Promise.reject(this.lost);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject, backend: backend instanceof PortBackend ? backend : undefined });
      this.send({ ...c, id });
      if (signal !== undefined) {
        const cancel = (): void => {
          if (this.calls.has(id)) this.send({ op: 'cancel', call: id });
        };
        signal.addEventListener('abort', cancel, { once: true });
      }
    });
  }

  /** A publish of one value without options or signal: joins the run of them queued just before it (a `publishes` message). */
  publishOne(topic: number, value: unknown, backend: PortBackend): Promise<unknown> {
    if (this.lost !== undefined) return Promise.reject(this.lost);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject, backend });
      const last = this.queue[this.queue.length - 1];
      if (last !== undefined && last.op === 'publishes' && last.topic === topic && last.first + last.values.length === id) last.values.push(value);
      else this.queue.push({ op: 'publishes', topic, first: id, values: [value] });
      this.schedule();
    });
  }

  send(m: ClientMessage): void {
    if (this.lost !== undefined) return;
    this.queue.push(m);
    this.schedule();
  }

  /** An ack: joins the acks of the same member sent just before it, so the order of all messages holds. */
  ack(member: number, token: number): void {
    if (this.lost !== undefined) return;
    const last = this.queue[this.queue.length - 1];
    if (last !== undefined && 'op' in last && last.op === 'acks' && last.member === member) last.tokens.push(token);
    else this.queue.push({ op: 'acks', member, tokens: [token] });
    this.schedule();
  }

  /** A member's demand changed: sent with this turn's batch. */
  demandChanged(m: PortMember<unknown>): void {
    this.dirty.add(m);
    this.schedule();
  }

  private schedule(): void {
    if (this.flushing) return;
    this.flushing = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushing = false;
    for (const m of this.dirty) m.noteDemand(this.queue);
    this.dirty.clear();
    if (this.queue.length === 0 || this.lost !== undefined) return;
    const batch = this.queue;
    this.queue = [];
    try {
      this.port.postMessage(batch);
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private receive(m: ServerMessage): void {
    switch (m.kind) {
      case 'reply': {
        const pending = this.calls.get(m.id);
        if (pending === undefined) return;
        this.calls.delete(m.id);
        if (m.stats !== undefined) pending.backend?.update(m.stats);
        if (m.error !== undefined) pending.reject(fromWire(m.error));
        else pending.resolve(m.value);
        break;
      }
      case 'published':
        for (let i = 0; i < m.ids.length; i++) {
          const pending = this.calls.get(m.ids[i]!);
          if (pending === undefined) continue;
          this.calls.delete(m.ids[i]!);
          if (m.stats !== undefined && i === m.ids.length - 1) pending.backend?.update(m.stats);
          pending.resolve([m.offsets[i]]);
        }
        break;
      case 'deliveries':
        this.members.get(m.member)?.arrive(fromColumns(m));
        break;
      case 'done':
        this.members.get(m.member)?.finish(m.error === undefined ? undefined : fromWire(m.error));
        break;
      case 'stale':
        this.members.get(m.member)?.stale(m.tokens);
        break;
      case 'closed':
        this.fail(fromWire(m.error));
        break;
    }
  }

  private fail(e: Error): void {
    if (this.lost !== undefined) return;
    this.lost = e;
    clearInterval(this.heartbeat);
    this.stopWatching?.();
    this.releaseLease?.();
    this.stop?.();
    this.queue = [];
    const calls = [...this.calls.values()];
    this.calls.clear();
    for (const c of calls) c.reject(e);
    for (const m of [...this.members.values()]) m.finish(e);
  }
}

/** A topic of the served bus, by handle. */
class PortBackend implements TopicBackend {
  private snapshot: TopicStats | undefined = undefined;
  private refreshing = false;

  constructor(
    private readonly client: PortClient,
    readonly handle: number,
  ) {}

  update(stats: TopicStats): void {
    this.snapshot = stats;
  }

  publish(entries: readonly PublishEntry[], signal?: AbortSignal): Promise<number[]> {
    const one = entries[0]!;
    if (entries.length === 1 && signal === undefined && one.key === undefined && one.headers === undefined && one.ttlMs === undefined && one.delayMs === undefined && one.deliverAt === undefined && one.priority === undefined) {
      return this.client.publishOne(this.handle, one.value, this) as Promise<number[]>;
    }
    const wire = entries.map(({ value, key, headers, ttlMs, delayMs, deliverAt, priority }): WireEntry =>
      key === undefined && headers === undefined && ttlMs === undefined && delayMs === undefined && deliverAt === undefined && priority === undefined
        ? { value }
        : { value, options: { key, headers, ttlMs, delayMs, deliverAt, priority } },
    );
    const call: Call = signal === undefined ? { op: 'publish', topic: this.handle, entries: wire } : { op: 'publish', topic: this.handle, entries: wire, cancellable: true };
    return this.client.call(call, this, signal) as Promise<number[]>;
  }

  openMember<T>(options: MemberOptions): MemberPort<T> {
    return new PortMember<T>(this.client, options).open(this.handle, this);
  }

  deleteGroup(name: string): Promise<boolean> {
    return this.client.call({ op: 'deleteGroup', topic: this.handle, group: name }, this) as Promise<boolean>;
  }

  /** The last snapshot the server sent; reading it asks for a fresh one (one request at a time). */
  stats(): TopicStats {
    if (!this.refreshing) {
      this.refreshing = true;
      this.client.call({ op: 'stats', topic: this.handle }, this).then(
        () => (this.refreshing = false),
        () => (this.refreshing = false),
      );
    }
    return this.snapshot!;
  }

  close(): Promise<void> {
    return this.client.call({ op: 'closeTopic', topic: this.handle }, this).then(() => undefined);
  }

  destroy(): Promise<void> {
    return this.client.call({ op: 'destroyTopic', topic: this.handle }, this).then(() => undefined);
  }
}

/**
 * The MessagePort engine: `createBus({ engine: portEngine(port) })` is a client of the bus that
 * `serveBus(bus, otherEnd)` serves at the other end of the port, in another thread, worker or
 * tab. Everything crossing is structured-clonable (values cross as structured clones); the served
 * bus keeps the topics, their timers and their storage. See docs/engines.md.
 *
 * @example
 * ```ts
 * import { workerData } from 'node:worker_threads';
 * const bus = createBus({ engine: portEngine(workerData.port) });
 * await bus.ready();
 * for await (const d of bus.topic<Job>('jobs').consumer({ group: 'workers' })) { run(d.value); d.ack(); }
 * ```
 */
export function portEngine(port: MessagePortLike, options?: PortEngineOptions): Engine {
  if (typeof port !== 'object' || port === null || typeof port.postMessage !== 'function') {
    throw new ConfigError('port', '`port` must be a MessagePort-like object (with `postMessage`)');
  }
  const heartbeatMs = options?.heartbeatMs ?? 1000;
  if (typeof heartbeatMs !== 'number' || !(heartbeatMs >= 0)) throw new ConfigError('heartbeatMs', `\`heartbeatMs\` must be a number ≥ 0, got ${String(heartbeatMs)}`);
  const connectTimeoutMs = options?.connectTimeoutMs ?? 10_000;
  if (typeof connectTimeoutMs !== 'number' || !(connectTimeoutMs > 0)) throw new ConfigError('connectTimeoutMs', `\`connectTimeoutMs\` must be a number > 0, got ${String(connectTimeoutMs)}`);
  return new PortClient(port, heartbeatMs, connectTimeoutMs);
}
