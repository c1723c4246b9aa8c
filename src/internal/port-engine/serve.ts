import { ConfigError } from '../../errors.js';
import type { Bus, Consumer, Delivery, Topic } from '../../types.js';
import { type Call, type ClientMessage, listen, type MessagePortLike, type Notice, PROTOCOL_VERSION, type ServerMessage, toWire, unref, type WireDelivery, type WireEntry } from './protocol.js';

/** Options of {@link serveBus}. */
export interface ServeOptions {
  /**
   * A client that said it sends heartbeats and is silent for this many heartbeat periods is taken
   * for gone: its members are closed, their unsettled deliveries returned. Default `3`.
   */
  readonly missedHeartbeats?: number;
  /**
   * How often the server looks for deliveries it handed to the client that went stale (ack
   * timeout, eviction, another member's seek) and tells the client, so their `settled` turns
   * true and settling them returns false. Default `50`.
   */
  readonly staleCheckMs?: number;
}

/** The handle {@link serveBus} returns. */
export interface BusServer {
  /** True once the client left (its port closed, its heartbeat stopped, or it said goodbye) or `close()` was called. */
  readonly closed: boolean;
  /** Stops serving: closes the client's members (their unsettled deliveries return to their groups) and the port. */
  close(): void;
}

/** One member served to the client: a consumer of the served bus, pumped up to the client's demand. */
class ServedMember {
  private want = 0;
  private received = 0;
  private sent = 0;
  private nextToken = 0;
  private readonly held = new Map<number, Delivery<unknown>>();
  private wake: (() => void) | undefined = undefined;
  private waiting: AbortController | undefined = undefined;
  closed = false;
  /** The client's push face unsubscribed: nothing more is delivered; what it holds stays settleable. */
  left = false;

  constructor(
    readonly id: number,
    readonly consumer: Consumer<unknown>,
    private readonly post: (m: ServerMessage) => void,
  ) {}

  private get credit(): number {
    return this.want - (this.sent - this.received);
  }

  demand(want: number, received: number): void {
    this.want = want;
    this.received = received;
    if (this.credit > 0) {
      const wake = this.wake;
      this.wake = undefined;
      wake?.();
    } else this.waiting?.abort();
  }

  settle(token: number, how: Extract<Notice, { op: 'settle' }>['how']): void {
    const d = this.held.get(token);
    if (d === undefined) return;
    if (how.kind === 'inProgress') {
      d.inProgress();
      return;
    }
    this.held.delete(token);
    if (how.kind === 'ack') d.ack();
    else if (how.kind === 'nack') d.nack({ delayMs: how.delayMs });
    else d.term(how.reason);
  }

  /** Tokens of deliveries that went stale since the last look. */
  stale(): number[] | undefined {
    let out: number[] | undefined;
    for (const [token, d] of this.held) {
      if (d.settled) {
        this.held.delete(token);
        (out ??= []).push(token);
      }
    }
    return out;
  }

  get holding(): number {
    return this.held.size;
  }

  /** Leaves the group as an unsubscribed push face: held deliveries stay settleable (where the served consumer can). */
  leave(): void {
    if (this.closed || this.left) return;
    this.left = true;
    const c = this.consumer as Consumer<unknown> & { unsubscribe?(unseen: undefined): void };
    if (typeof c.unsubscribe === 'function') c.unsubscribe(undefined);
    else c.close();
    this.waiting?.abort();
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.held.clear();
    this.consumer.close(); // returns what it holds unsettled to the group
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Hands deliveries to the client while it has credit, until the consumer is done. */
  async run(): Promise<void> {
    const c = this.consumer;
    while (!this.closed && !this.left) {
      if (this.credit <= 0) {
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      let d = c.tryRecv();
      if (d === undefined) {
        const ac = new AbortController();
        this.waiting = ac;
        try {
          d = await c.recv({ signal: ac.signal });
        } catch (e) {
          if (ac.signal.aborted) continue; // the client's demand fell to what is in flight, or it left
          throw e;
        } finally {
          this.waiting = undefined;
        }
        if (d === undefined) break;
      }
      const batch: Delivery<unknown>[] = [d];
      while (batch.length < this.credit && (d = c.tryRecv()) !== undefined) batch.push(d);
      this.send(batch);
    }
    if (!this.closed && !this.left) this.post({ kind: 'done', member: this.id });
  }

  private send(batch: Delivery<unknown>[]): void {
    const items: WireDelivery[] = batch.map((d) => {
      const token = this.nextToken++;
      if (!d.settled) this.held.set(token, d);
      return { token, offset: d.offset, value: d.value, key: d.key, headers: d.headers, timestamp: d.timestamp, deliveryCount: d.deliveryCount, settled: d.settled };
    });
    this.sent += items.length;
    this.post({ kind: 'deliveries', member: this.id, items });
  }

  /**
   * The batch holding these deliveries could not be cloned: sends them one by one, and
   * dead-letters a value that cannot be cloned (it never can) rather than redeliver it forever.
   */
  unsendable(items: readonly WireDelivery[], postNow: (m: ServerMessage) => void): void {
    for (const item of items) {
      try {
        postNow({ kind: 'deliveries', member: this.id, items: [item] });
      } catch (e) {
        this.sent--;
        const d = this.held.get(item.token);
        this.held.delete(item.token);
        d?.term(`value cannot cross the port: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
}

/** Publishes a call's entries in order; options are validated only where some are set. */
function publishAll(t: Topic<unknown>, entries: readonly WireEntry[], signal: AbortSignal | undefined): Promise<number[]> {
  return Promise.all(entries.map((e) => t.publish(e.value, e.options === undefined && signal === undefined ? undefined : { ...e.options, signal })));
}

/** One client's connection: its topic handles and members. */
class Connection implements BusServer {
  private readonly topics = new Map<number, Topic<unknown>>();
  private readonly members = new Map<number, ServedMember>();
  private readonly stop: () => void;
  private heartbeat: ReturnType<typeof setInterval> | undefined = undefined;
  private readonly staleCheck: ReturnType<typeof setInterval>;
  /** Calls that can be withdrawn (a publish waiting for room), by call id. */
  private readonly cancels = new Map<number, AbortController>();
  private lastSeen = Date.now();
  closed = false;

  constructor(
    private readonly bus: Bus,
    private readonly port: MessagePortLike,
    private readonly missed: number,
    staleCheckMs: number,
  ) {
    this.staleCheck = unref(setInterval(() => this.reportStale(), staleCheckMs));
    this.stop = listen(
      port,
      (data) => this.receive(data),
      () => this.close(),
    );
  }

  close(): void {
    if (this.closed) return;
    try {
      this.flush(); // what was answered before closing still goes out
    } catch {
      // a port already closed
    }
    this.closed = true;
    clearInterval(this.heartbeat);
    clearInterval(this.staleCheck);
    for (const ac of this.cancels.values()) ac.abort();
    this.stop();
    for (const m of this.members.values()) m.close();
    this.members.clear();
    this.topics.clear();
    try {
      this.port.close?.();
    } catch {
      // a port already closed
    }
  }

  /** What this turn sends, posted as one array when the turn ends ({@link flush}). */
  private outbox: ServerMessage[] = [];
  private flushing = false;
  /** The last reply of this turn on each topic handle: it carries the topic's stats. */
  private readonly statsFor = new Map<number, Extract<ServerMessage, { kind: 'reply' }>>();

  private post = (m: ServerMessage): void => {
    if (this.closed) return;
    this.outbox.push(m);
    if (this.flushing) return;
    this.flushing = true;
    queueMicrotask(this.flush);
  };

  /**
   * Posts the turn's messages as one array. A reply about a topic carries its stats, taken once
   * per turn after telling the client what went stale: what the figures show as settled, the
   * client sees settled. A batch that cannot be cloned is posted message by message.
   */
  private flush = (): void => {
    this.flushing = false;
    if (this.statsFor.size > 0) {
      this.reportStale();
      for (const [handle, reply] of this.statsFor) reply.stats = this.topics.get(handle)?.stats();
      this.statsFor.clear();
    }
    if (this.outbox.length === 0 || this.closed) return;
    const batch = this.outbox;
    this.outbox = [];
    try {
      this.port.postMessage(batch);
    } catch {
      const postNow = (m: ServerMessage): void => this.port.postMessage([m]);
      for (const m of batch) {
        try {
          postNow(m);
        } catch {
          if (m.kind === 'deliveries') this.members.get(m.member)?.unsendable(m.items, postNow);
        }
      }
    }
  };

  private receive(data: unknown): void {
    if (this.closed || !Array.isArray(data)) return;
    this.lastSeen = Date.now();
    for (const m of data as ClientMessage[]) {
      if ('id' in m) this.call(m);
      else this.notice(m);
    }
  }

  private notice(m: Notice): void {
    switch (m.op) {
      case 'demand':
        this.members.get(m.member)?.demand(m.want, m.received);
        break;
      case 'settle':
        this.members.get(m.member)?.settle(m.token, m.how);
        break;
      case 'leave':
        this.members.get(m.member)?.leave();
        break;
      case 'cancel':
        this.cancels.get(m.call)?.abort();
        break;
      case 'ping':
        break;
    }
  }

  /** Tells the client which deliveries went stale; forgets members that left and hold nothing. */
  private reportStale(): void {
    for (const [id, member] of this.members) {
      const tokens = member.stale();
      if (tokens !== undefined) this.post({ kind: 'stale', member: id, tokens });
      if (member.left && member.holding === 0) this.members.delete(id);
    }
  }

  private call(m: Call & { id: number }): void {
    let result: unknown;
    try {
      result = this.answer(m);
    } catch (e) {
      this.post({ kind: 'reply', id: m.id, error: toWire(e) });
      return;
    }
    Promise.resolve(result).then(
      (value) => {
        const reply: ServerMessage = { kind: 'reply', id: m.id, value };
        this.post(reply);
        if ('topic' in m && this.topics.has(m.topic)) this.statsFor.set(m.topic, reply);
        if (m.op === 'bye') this.close();
      },
      (e: unknown) => this.post({ kind: 'reply', id: m.id, error: toWire(e) }),
    );
  }

  private topicOf(handle: number): Topic<unknown> {
    const t = this.topics.get(handle);
    if (t === undefined) throw new ConfigError('topic', `no topic is open under handle ${handle}`);
    return t;
  }

  private memberOf(handle: number): ServedMember {
    const member = this.members.get(handle);
    if (member === undefined) throw new ConfigError('member', `no member is open under handle ${handle}`);
    return member;
  }

  private answer(m: Call & { id: number }): unknown {
    switch (m.op) {
      case 'hello':
        if (m.version !== PROTOCOL_VERSION) throw new ConfigError('version', `the server speaks protocol ${PROTOCOL_VERSION}, the client ${m.version}`);
        if (m.heartbeatMs > 0 && Number.isFinite(m.heartbeatMs)) this.watch(m.heartbeatMs);
        return PROTOCOL_VERSION;
      case 'topic':
        this.topics.set(m.topic, this.bus.topic(m.name, m.options));
        return undefined;
      case 'publish': {
        const t = this.topicOf(m.topic);
        if (m.cancellable !== true) return publishAll(t, m.entries, undefined);
        // an AbortSignal costs an EventTarget and weak references: made only for a call that can be cancelled
        const ac = new AbortController();
        this.cancels.set(m.id, ac);
        return publishAll(t, m.entries, ac.signal).finally(() => this.cancels.delete(m.id));
      }
      case 'member': {
        const c = this.topicOf(m.topic).consumer(m.options);
        const member = new ServedMember(m.member, c, this.post);
        this.members.set(m.member, member);
        member.run().catch((e: unknown) => this.post({ kind: 'done', member: m.member, error: toWire(e) }));
        return c.group;
      }
      case 'commit':
        return this.memberOf(m.member).consumer.commit(m.offset);
      case 'seek':
        return this.memberOf(m.member).consumer.seek(m.offset);
      case 'deleteGroup':
        return this.topicOf(m.topic).deleteGroup(m.group);
      case 'stats':
        this.topicOf(m.topic);
        return undefined;
      case 'closeTopic':
        return this.topicOf(m.topic).close();
      case 'destroyTopic': {
        const name = this.topicOf(m.topic).name;
        return this.bus.deleteTopic(name).then(() => undefined);
      }
      case 'bye':
        return undefined;
      case 'closeMember': {
        const member = this.members.get(m.member);
        this.members.delete(m.member);
        member?.close();
        return undefined;
      }
    }
  }

  /** A client that sends heartbeats and goes silent is gone: its members close at once. */
  private watch(heartbeatMs: number): void {
    clearInterval(this.heartbeat);
    this.heartbeat = unref(
      setInterval(() => {
        if (Date.now() - this.lastSeen > heartbeatMs * this.missed) this.close();
      }, heartbeatMs),
    );
  }
}

/**
 * Serves `bus` to one client over `port` (a MessagePort, a Worker, a SharedWorker's port, a
 * worker_threads MessagePort): `createBus({ engine: portEngine(otherEnd) })` in the other thread,
 * worker or tab uses the bus's topics. Call it once per port (in a SharedWorker, once per
 * connecting port). When the client goes away — its port closes (worker_threads says so; a
 * terminated worker's port closes) or its heartbeat stops (browsers' MessagePort has no close
 * event) — its members are closed at once and their unsettled deliveries return to their groups.
 *
 * @example
 * ```ts
 * // main thread
 * const { port1, port2 } = new MessageChannel();
 * serveBus(bus, port1);
 * new Worker(url, { workerData: { port: port2 }, transferList: [port2] });
 * // worker
 * const remote = createBus({ engine: portEngine(workerData.port) });
 * ```
 */
export function serveBus(bus: Bus, port: MessagePortLike, options?: ServeOptions): BusServer {
  if (typeof port !== 'object' || port === null || typeof port.postMessage !== 'function') {
    throw new ConfigError('port', '`port` must be a MessagePort-like object (with `postMessage`)');
  }
  const missed = options?.missedHeartbeats ?? 3;
  if (!Number.isInteger(missed) || missed < 1) throw new ConfigError('missedHeartbeats', `\`missedHeartbeats\` must be an integer ≥ 1, got ${String(missed)}`);
  const staleCheckMs = options?.staleCheckMs ?? 50;
  if (typeof staleCheckMs !== 'number' || !(staleCheckMs > 0) || staleCheckMs === Infinity) throw new ConfigError('staleCheckMs', `\`staleCheckMs\` must be a finite number > 0, got ${String(staleCheckMs)}`);
  return new Connection(bus, port, missed, staleCheckMs);
}
