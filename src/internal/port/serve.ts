import type { Settlement, TopicBackend } from '../../engine.js';
import { ClosedError, ConfigError } from '../../errors.js';
import type { Bus, TopicStats } from '../../types.js';
import { BusEngine } from '../memory/engine/backend.js';
import { holdLease, leaseName, watchLease } from './lease.js';
import { type Call, type ClientMessage, fromColumns, listen, type MessagePortLike, type Notice, PROTOCOL_VERSION, type Published, type PublishRun, type ServerMessage, toWire, unref, type Welcome, type WireEntry } from './protocol.js';
import { ServedMember } from './served-member.js';

/** Options of {@link serveBus}. */
export interface ServeOptions {
  /**
   * A client that said it sends heartbeats and is silent for this many heartbeat periods is taken
   * for gone: its members are closed, their unsettled deliveries returned. Not used for a client
   * that holds a Web Lock for its life (browsers): its lock tells at once. Default `3`.
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

const ACK: Settlement = { kind: 'ack' };

/** Publishes a call's entries in order, as one batch. */
function publishAll(t: TopicBackend, entries: readonly WireEntry[], signal: AbortSignal | undefined): Promise<number[]> {
  return t.publish(entries.map((e) => (e.options === undefined ? { value: e.value } : { value: e.value, ...e.options })), signal);
}

/** One client's connection: its topic handles and members. */
class Connection implements BusServer {
  private readonly topics = new Map<number, TopicBackend>();
  private readonly engine: BusEngine;
  private readonly members = new Map<number, ServedMember>();
  private readonly stop: () => void;
  private heartbeat: ReturnType<typeof setInterval> | undefined = undefined;
  private readonly staleCheck: ReturnType<typeof setInterval>;
  /** Calls that can be withdrawn (a publish waiting for room), by call id. */
  private readonly cancels = new Map<number, AbortController>();
  private lastSeen = Date.now();
  /** Stops waiting for the Web Lock the client holds while it lives, and releases this server's (lease.ts). */
  private readonly leases: (() => void)[] = [];
  closed = false;

  constructor(
    bus: Bus,
    private readonly port: MessagePortLike,
    private readonly missed: number,
    staleCheckMs: number,
  ) {
    this.engine = new BusEngine('served', { lacks: {} }, bus, false);
    this.staleCheck = unref(setInterval(() => this.reportStale(), staleCheckMs));
    this.stop = listen(
      port,
      (data) => this.receive(data),
      () => this.end(),
    );
  }

  close(): void {
    this.end(new ClosedError('the served bus stopped serving this client'));
  }

  /**
   * Ends the connection. `reason` is posted last when the client may still be there to read it
   * (the server stops serving, or takes a silent client for gone): where a port has no close
   * event, it is how the client learns that its calls will never be answered.
   */
  private end(reason?: ClosedError): void {
    if (this.closed) return;
    if (reason !== undefined) this.post({ kind: 'closed', error: toWire(reason) });
    try {
      this.flush(); // what was answered before closing still goes out
    } catch {
      // a port already closed
    }
    this.closed = true;
    clearInterval(this.heartbeat);
    clearInterval(this.staleCheck);
    for (const release of this.leases.splice(0)) release();
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

  /** What this turn sends, posted when the turn ends ({@link flush}). */
  private outbox: ServerMessage[] = [];
  private flushing = false;
  /** The last reply of this turn on each topic handle: it carries the topic's stats. */
  private readonly statsFor = new Map<number, { stats?: TopicStats }>();

  private post = (m: ServerMessage): void => {
    if (this.closed) return;
    this.outbox.push(m);
    if (this.flushing) return;
    this.flushing = true;
    queueMicrotask(this.flush);
  };

  /**
   * Posts the turn's messages as one array, cut after each `deliveries`. A reply about a topic
   * carries its stats, taken once per turn after telling the client what went stale: what the
   * figures show as settled, the client sees settled. A batch that cannot be cloned is posted
   * message by message.
   */
  private flush = (): void => {
    this.flushing = false;
    if (this.statsFor.size > 0) {
      this.reportStale();
      for (const [handle, reply] of this.statsFor) reply.stats = this.topics.get(handle)?.stats();
      this.statsFor.clear();
    }
    if (this.outbox.length === 0 || this.closed) return;
    const outbox = this.outbox;
    this.outbox = [];
    // deliveries end their array: the client handles (and acks) one chunk while the next crosses
    let from = 0;
    for (let i = 0; i < outbox.length; i++) {
      if (outbox[i]!.kind === 'deliveries' || i === outbox.length - 1) {
        this.postBatch(outbox.slice(from, i + 1));
        from = i + 1;
      }
    }
  };

  private postBatch(batch: ServerMessage[]): void {
    try {
      this.port.postMessage(batch);
    } catch {
      const postNow = (m: ServerMessage): void => this.port.postMessage([m]);
      for (const m of batch) {
        try {
          postNow(m);
        } catch {
          if (m.kind === 'deliveries') this.members.get(m.member)?.unsendable(fromColumns(m), postNow);
        }
      }
    }
  }

  private receive(data: unknown): void {
    if (this.closed || !Array.isArray(data)) return;
    this.lastSeen = Date.now();
    for (const m of data as ClientMessage[]) {
      if (m.op === 'publishes') this.publishRun(m);
      else if ('id' in m) this.call(m);
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
      case 'acks': {
        const member = this.members.get(m.member);
        if (member !== undefined) for (const token of m.tokens) member.settle(token, ACK);
        break;
      }
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
        if (m.op === 'publish' && m.entries.length === 1) return this.published(m.topic, m.id, (value as number[])[0]!);
        const reply: ServerMessage = { kind: 'reply', id: m.id, value };
        this.post(reply);
        if ('topic' in m && this.topics.has(m.topic)) this.statsFor.set(m.topic, reply);
        if (m.op === 'bye') this.end();
      },
      (e: unknown) => this.post({ kind: 'reply', id: m.id, error: toWire(e) }),
    );
  }

  /** Publishes a run of values, each a call of its own: replied to as published, or with its error. */
  private publishRun(m: PublishRun): void {
    let t: TopicBackend;
    try {
      t = this.topicOf(m.topic);
    } catch (e) {
      for (let i = 0; i < m.values.length; i++) this.post({ kind: 'reply', id: m.first + i, error: toWire(e) });
      return;
    }
    for (let i = 0; i < m.values.length; i++) {
      const id = m.first + i;
      t.publish([{ value: m.values[i] }]).then(
        (offsets) => this.published(m.topic, id, offsets[0]!),
        (e: unknown) => this.post({ kind: 'reply', id, error: toWire(e) }),
      );
    }
  }

  /** Replies to a one-value publish: joins the replies to the same topic posted just before it. */
  private published(topic: number, id: number, offset: number): void {
    const last = this.outbox[this.outbox.length - 1];
    let run: Published;
    if (last !== undefined && last.kind === 'published' && last.topic === topic) run = last;
    else this.post((run = { kind: 'published', topic, ids: [], offsets: [] }));
    run.ids.push(id);
    run.offsets.push(offset);
    if (this.topics.has(topic)) this.statsFor.set(topic, run);
  }

  private topicOf(handle: number): TopicBackend {
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
        if (!(typeof m.lock === 'string' && this.watchClient(m.lock, m.heartbeatMs)) && m.heartbeatMs > 0 && Number.isFinite(m.heartbeatMs)) this.watch(m.heartbeatMs);
        return this.welcome();
      case 'topic':
        this.topics.set(m.topic, this.engine.backend(m.name, m.options));
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
        const port = this.topicOf(m.topic).openMember<unknown>(m.options);
        const member = new ServedMember(m.member, port, this.post, () => this.reportStale());
        this.members.set(m.member, member);
        return port.group;
      }
      case 'commit':
        return this.memberOf(m.member).member.commit(m.offset);
      case 'seek':
        return this.memberOf(m.member).member.seek(m.offset);
      case 'deleteGroup':
        return this.topicOf(m.topic).deleteGroup(m.group);
      case 'stats':
        this.topicOf(m.topic);
        return undefined;
      case 'closeTopic':
        return this.topicOf(m.topic).close();
      case 'destroyTopic':
        return this.topicOf(m.topic).destroy();
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

  /**
   * Waits for the Web Lock the client holds while it lives: granted once its page or worker is
   * gone (closed, crashed, navigated away) or it let go, and the connection closes then. No
   * heartbeat is watched meanwhile: a hidden tab's timers may be throttled to one run a minute,
   * and its silence says nothing. False where this side has no Web Locks.
   */
  private watchClient(name: string, heartbeatMs: number): boolean {
    const stop = watchLease(
      name,
      () => this.end(),
      () => {
        if (!this.closed && heartbeatMs > 0 && Number.isFinite(heartbeatMs)) this.watch(heartbeatMs);
      },
    );
    if (stop === undefined) return false;
    this.leases.push(stop);
    return true;
  }

  /** The answer to `hello`: with the Web Lock this server holds while it serves, for the client to watch. */
  private async welcome(): Promise<Welcome> {
    const name = leaseName('server');
    const release = name === undefined ? undefined : await holdLease(name);
    if (release === undefined) return { version: PROTOCOL_VERSION };
    if (this.closed) release();
    else this.leases.push(release);
    return { version: PROTOCOL_VERSION, lock: name };
  }

  /** A client that sends heartbeats and goes silent is gone: its members close at once. */
  private watch(heartbeatMs: number): void {
    clearInterval(this.heartbeat);
    this.heartbeat = unref(
      setInterval(() => {
        const silentMs = Date.now() - this.lastSeen;
        if (silentMs > heartbeatMs * this.missed) this.end(new ClosedError(`the served bus took this client for gone: no heartbeat for ${silentMs} ms (${this.missed} missed at ${heartbeatMs} ms)`));
      }, heartbeatMs),
    );
  }
}

/**
 * Serves `bus` to one client over `port` (a MessagePort, a Worker, a SharedWorker's port, a
 * worker_threads MessagePort): `createBus({ engine: portEngine(otherEnd) })` in the other thread,
 * worker or tab uses the bus's topics. Call it once per port (in a SharedWorker, once per
 * connecting port). When the client goes away — its port closes (worker_threads says so; a
 * terminated worker's port closes), the Web Lock it holds while it lives is released (a browser
 * tab or worker closed or crashed: browsers' MessagePort has no close event), or its heartbeat
 * stops (where there are no Web Locks) — its members are closed at once and their unsettled
 * deliveries return to their groups.
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
