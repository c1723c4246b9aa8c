import type { DeliveryRecord, Engine, EngineTopicOptions, MemberListener, MemberOptions, MemberPort, PublishEntry, Settlement, TopicBackend } from '../../engine.js';
import { ClosedError, ConfigError, TimeoutError } from '../../errors.js';
import type { TopicStats } from '../../types.js';
import { type Call, type ClientMessage, fromWire, listen, type MessagePortLike, PROTOCOL_VERSION, type ServerMessage, unref, type WireDelivery } from './protocol.js';

/** Options of {@link portEngine}. */
export interface PortEngineOptions {
  /**
   * Sends a heartbeat this often, so the server can tell this client is gone where a port has no
   * close event (browsers): after `missedHeartbeats` (server option, default 3) silent periods it
   * closes this client's members. `0` sends none (worker_threads ports report closing). Default `1000`.
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
      (data) => this.receive(data as ServerMessage),
      () => this.fail(new ClosedError('the port to the served bus closed')),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = unref(setTimeout(() => reject(new TimeoutError(`the served bus did not answer within ${this.connectTimeoutMs} ms`)), this.connectTimeoutMs));
    });
    try {
      await Promise.race([this.call({ op: 'hello', version: PROTOCOL_VERSION, heartbeatMs: this.heartbeatMs }), timeout]);
    } finally {
      clearTimeout(timer);
    }
    if (this.heartbeatMs > 0) this.heartbeat = unref(setInterval(() => this.send({ op: 'ping' }), this.heartbeatMs));
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
  call(c: Call, backend?: PortBackend, signal?: AbortSignal): Promise<unknown> {
    if (this.lost !== undefined) return Promise.reject(this.lost);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject, backend });
      this.send({ ...c, id });
      if (signal !== undefined) {
        const cancel = (): void => {
          if (this.calls.has(id)) this.send({ op: 'cancel', call: id });
        };
        signal.addEventListener('abort', cancel, { once: true });
      }
    });
  }

  send(m: ClientMessage): void {
    if (this.lost !== undefined) return;
    this.queue.push(m);
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
      case 'deliveries':
        this.members.get(m.member)?.arrive(m.items);
        break;
      case 'done':
        this.members.get(m.member)?.finish(m.error === undefined ? undefined : fromWire(m.error));
        break;
      case 'stale':
        this.members.get(m.member)?.stale(m.tokens);
        break;
    }
  }

  private fail(e: Error): void {
    if (this.lost !== undefined) return;
    this.lost = e;
    clearInterval(this.heartbeat);
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
    const wire = entries.map(({ value, key, headers, ttlMs }) => ({ value, options: { key, headers, ttlMs } }));
    return this.client.call({ op: 'publish', topic: this.handle, entries: wire }, this, signal) as Promise<number[]>;
  }

  openMember<T>(options: MemberOptions): MemberPort<T> {
    const member = new PortMember<T>(this.client, options);
    return member.open(this);
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

/** A delivery handed out by a {@link PortMember}: stale once the server says so, or a commit or seek passes it. */
class HeldRecord<T> implements DeliveryRecord<T> {
  gone = false;

  constructor(
    private readonly member: PortMember<T>,
    private readonly item: WireDelivery,
  ) {}

  get offset(): number {
    return this.item.offset;
  }
  get value(): T {
    return this.item.value as T;
  }
  get key(): string | undefined {
    return this.item.key;
  }
  get headers(): WireDelivery['headers'] {
    return this.item.headers;
  }
  get timestamp(): number {
    return this.item.timestamp;
  }
  get deliveryCount(): number {
    return this.item.deliveryCount;
  }
  get token(): number {
    return this.item.token;
  }
  get settled(): boolean {
    return this.item.settled || this.gone;
  }

  settle(how: Settlement): void {
    this.member.settle(this, how);
  }
}

let memberIds = 0;

/**
 * A member served over the port: deliveries arrive up to the demand it sends, into a local buffer
 * that `poll` reads. Settles go to the server in the background, batched per turn.
 */
class PortMember<T> implements MemberPort<T> {
  readonly id = memberIds++;
  group: string;
  onReady: MemberListener | null = null;
  error: unknown = undefined;
  private readonly holding = new Map<number, HeldRecord<T>>();
  private buffer: WireDelivery[] = [];
  private head = 0;
  private wanted = 0;
  private received = 0;
  private sentWant = 0;
  private sentReceived = 0;
  private remoteDone = false;
  private left = false;
  private closing: Promise<void> | undefined = undefined;

  constructor(
    private readonly client: PortClient,
    private readonly options: MemberOptions,
  ) {
    this.group = options.group ?? '';
  }

  open(backend: PortBackend): this {
    this.client.members.set(this.id, this as PortMember<unknown>);
    this.client.call({ op: 'member', topic: backend.handle, member: this.id, options: this.options }, backend).then(
      (group) => (this.group = group as string),
      (e: unknown) => this.finish(e),
    );
    return this;
  }

  get held(): number {
    return this.holding.size;
  }

  private get buffered(): number {
    return this.buffer.length - this.head;
  }

  get desiredSize(): number {
    return Math.max(0, Math.min(this.wanted, this.options.prefetch - this.held - this.buffered));
  }

  set desiredSize(n: number) {
    this.wanted = n;
    this.client.demandChanged(this as PortMember<unknown>);
  }

  get done(): boolean {
    return this.error !== undefined || ((this.closing !== undefined || this.left || this.remoteDone) && this.buffered === 0);
  }

  /** Adds this member's demand to the batch when it changed. */
  noteDemand(queue: ClientMessage[]): void {
    if (this.closing !== undefined || this.left || this.remoteDone || this.error !== undefined) return;
    const want = this.desiredSize;
    if (want === this.sentWant && (want === 0 || this.received === this.sentReceived)) return;
    this.sentWant = want;
    this.sentReceived = this.received;
    queue.push({ op: 'demand', member: this.id, want, received: this.received });
  }

  arrive(items: WireDelivery[]): void {
    if (this.closing !== undefined) return;
    this.received += items.length;
    this.wanted = Math.max(0, this.wanted - items.length);
    for (const item of items) this.buffer.push(item);
    if (this.left) this.returnBuffered();
    else this.onReady?.ready();
  }

  finish(error: unknown): void {
    this.remoteDone = true;
    if (error !== undefined) this.error = error;
    if (error !== undefined || this.holding.size === 0) this.client.members.delete(this.id);
    this.onReady?.ready();
  }

  /** The server says these deliveries went stale (ack timeout, eviction, a seek by another member). */
  stale(tokens: number[]): void {
    for (const token of tokens) this.drop(token);
  }

  poll(): DeliveryRecord<T> | undefined {
    if (this.left || this.head === this.buffer.length) return undefined;
    const item = this.buffer[this.head++]!;
    if (this.head === this.buffer.length) {
      this.buffer = [];
      this.head = 0;
    }
    const record = new HeldRecord(this, item);
    if (!item.settled) this.holding.set(item.token, record);
    return record;
  }

  /** @internal Sends a settle; answers were given from local state already. */
  settle(record: HeldRecord<T>, how: Settlement): void {
    if (this.closing !== undefined || record.settled) return;
    if (how.kind !== 'inProgress') this.drop(record.token);
    this.client.send({ op: 'settle', member: this.id, token: record.token, how });
  }

  private drop(token: number): void {
    const record = this.holding.get(token);
    if (record === undefined) return;
    record.gone = true;
    this.holding.delete(token);
    if (this.holding.size === 0 && (this.left || this.remoteDone)) this.client.members.delete(this.id);
    else this.client.demandChanged(this as PortMember<unknown>);
  }

  commit(offset: number): Promise<boolean> {
    for (const r of [...this.holding.values()]) if (r.offset < offset) this.drop(r.token);
    return this.client.call({ op: 'commit', member: this.id, offset }) as Promise<boolean>;
  }

  seek(offset: number): Promise<boolean> {
    for (const r of [...this.holding.values()]) this.drop(r.token);
    return this.client.call({ op: 'seek', member: this.id, offset }) as Promise<boolean>;
  }

  leave(): void {
    if (this.left || this.closing !== undefined) return;
    this.left = true;
    this.returnBuffered();
    this.client.send({ op: 'leave', member: this.id });
    if (this.holding.size === 0) this.client.members.delete(this.id);
  }

  /** Deliveries that arrived for a face that is gone go back to the group. */
  private returnBuffered(): void {
    for (let i = this.head; i < this.buffer.length; i++) {
      const item = this.buffer[i]!;
      if (!item.settled) this.client.send({ op: 'settle', member: this.id, token: item.token, how: { kind: 'nack', delayMs: 0 } });
    }
    this.buffer = [];
    this.head = 0;
  }

  close(): Promise<void> {
    if (this.closing === undefined) {
      this.buffer = [];
      this.head = 0;
      for (const r of this.holding.values()) r.gone = true;
      this.holding.clear();
      this.client.members.delete(this.id);
      this.closing = this.remoteDone ? Promise.resolve() : this.client.call({ op: 'closeMember', member: this.id }).then(() => undefined, () => undefined);
    }
    return this.closing;
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
