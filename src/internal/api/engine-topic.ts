import type { AsyncIterableX } from 'ix/asynciterable/asynciterablex';
import type { Observable } from 'rxjs';
import type { DeliveryRecord, Engine, MemberListener, MemberOptions, MemberPort, PublishEntry, TopicBackend } from '../../engine.js';
import { ClosedError, ConfigError } from '../../errors.js';
import type { BatchEntry, BatchOptions, Consumer, ConsumerOptions, Delivery, OverflowPolicy, PublishOptions, Topic, TopicStats, WritableOptions } from '../../types.js';
import { consumeFace } from '../faces/consume-face.js';
import { messagesFace } from '../faces/messages-face.js';
import { readableFace } from '../faces/readable-face.js';
import { valuesFace } from '../faces/values-face.js';
import { writableFace } from '../faces/writable-face.js';
import { batchSettings, checkPriority, consumerOptions, entrySettings, publishSettings, type PublishSettings, type TopicSettings } from '../topic-options.js';
import * as v from '../validate.js';
import { PortConsumer } from './port-consumer.js';

/** The `ConfigError` for an option `engine` lacks. */
export function lacking(engine: Engine, option: string): ConfigError {
  return new ConfigError(option, `the ${engine.name} engine does not support \`${option}\`: ${engine.capabilities.lacks[option]}`);
}

/** Throws the engine's refusal when `option` is given (not undefined) and the engine lacks it. */
export function refuseLacking(engine: Engine, option: string, value: unknown): void {
  if (value !== undefined && engine.capabilities.lacks[option] !== undefined) throw lacking(engine, option);
}

/**
 * A member port for a topic whose backend is still opening: demand, commits and a close given
 * meanwhile are handed on once it is open.
 */
class PendingMember<T> implements MemberPort<T>, MemberListener {
  private port: MemberPort<T> | undefined = undefined;
  private readonly opened: Promise<MemberPort<T>>;
  private wanted = 0;
  private left = false;
  private closing: Promise<void> | undefined = undefined;
  /** Why the backend could not open the member. */
  private failure: unknown = undefined;
  onReady: MemberListener | null = null;

  constructor(
    backend: Promise<TopicBackend>,
    options: MemberOptions,
    private readonly fallbackGroup: string,
  ) {
    this.opened = backend.then(
      (b) => {
        const port = b.openMember<T>(options);
        this.port = port;
        port.onReady = this;
        port.desiredSize = this.wanted;
        if (this.closing !== undefined) void port.close();
        else if (this.left) port.leave();
        return port;
      },
      (e: unknown) => {
        this.failure = e;
        this.onReady?.ready();
        throw e;
      },
    );
    this.opened.catch(() => undefined);
  }

  ready(): void {
    this.onReady?.ready();
  }

  /** Why the member ended: its opening failed, or the opened member failed (the engine's connection was lost). */
  get error(): unknown {
    return this.failure ?? this.port?.error;
  }

  get group(): string {
    return this.port?.group ?? this.fallbackGroup;
  }

  get desiredSize(): number {
    return this.port?.desiredSize ?? this.wanted;
  }

  set desiredSize(n: number) {
    this.wanted = n;
    if (this.port !== undefined) this.port.desiredSize = n;
  }

  get done(): boolean {
    return this.error !== undefined || this.closing !== undefined || (this.port?.done ?? false);
  }

  get held(): number {
    return this.port?.held ?? 0;
  }

  poll(): DeliveryRecord<T> | undefined {
    return this.port?.poll();
  }

  /** Reaches an open port at once: what the port buffered past a seek or below a commit must be gone before the next poll. */
  commit(offset: number): Promise<boolean> {
    return this.port !== undefined ? this.port.commit(offset) : this.opened.then((p) => p.commit(offset));
  }

  seek(offset: number): Promise<boolean> {
    return this.port !== undefined ? this.port.seek(offset) : this.opened.then((p) => p.seek(offset));
  }

  leave(): void {
    this.left = true;
    this.port?.leave();
  }

  close(): Promise<void> {
    this.closing ??= this.port?.close() ?? this.opened.then(() => undefined, () => undefined);
    return this.closing;
  }
}

/** A topic's figures before its engine has answered. */
export function emptyStats(name: string, capacity: number): TopicStats {
  return {
    name,
    capacity,
    size: 0,
    head: 0,
    tail: 0,
    published: 0,
    rejected: 0,
    dropped: 0,
    expired: 0,
    agedOut: 0,
    waitingPublishers: 0,
    deadLetterDropped: 0,
    subscribers: 0,
    bytes: 0,
    bytesPublished: 0,
    closed: false,
    groups: {},
  };
}

/** Publish options that cross to an engine: plain data only. */
function entryOptions(engine: Engine, options: PublishOptions | undefined, levels: number): Omit<PublishEntry, 'value'> {
  return settingsEntry(engine, publishSettings(options), levels);
}

/** The per-message part of publish settings an engine is given, refusing what it lacks. */
function settingsEntry(engine: Engine, s: PublishSettings, levels: number, at?: string): Omit<PublishEntry, 'value'> {
  refuseLacking(engine, 'codec', s.codec);
  refuseLacking(engine, 'compression', s.compression);
  if (s.ttlMs !== Infinity) refuseLacking(engine, 'ttl:per-message', s.ttlMs);
  if (s.delayMs !== 0) refuseLacking(engine, 'delayMs', s.delayMs);
  if (s.deliverAt !== 0) refuseLacking(engine, 'deliverAt', s.deliverAt);
  if (s.priority >= 0) {
    refuseLacking(engine, 'priority', s.priority);
    checkPriority(s, levels, at);
  }
  const out: { -readonly [K in keyof Omit<PublishEntry, 'value'>]: PublishEntry[K] } = {};
  if (s.key !== undefined) out.key = s.key;
  if (s.headers !== undefined) out.headers = s.headers;
  if (s.ttlMs !== Infinity) out.ttlMs = s.ttlMs;
  if (s.delayMs !== 0) out.delayMs = s.delayMs;
  if (s.deliverAt !== 0) out.deliverAt = s.deliverAt;
  if (s.priority >= 0) out.priority = s.priority;
  return out;
}

/** Rejects with `signal`'s reason when it aborts first. The engine may still have published. */
function abortable<R>(p: Promise<R>, signal: AbortSignal | undefined): Promise<R> {
  if (signal === undefined) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<R>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * `Topic<T>` over any engine's {@link TopicBackend}. The backend opens asynchronously; calls made
 * meanwhile wait for it. `tryPublish` never publishes: whether there is room is not known in this
 * thread without asking the engine, so it returns false (after validating its arguments, and
 * throwing `ClosedError` on a closed topic) and a caller falls back to `publish`.
 */
export class EngineTopic<T> implements Topic<T> {
  private current: TopicBackend | undefined = undefined;
  private closing: Promise<void> | undefined = undefined;
  /** Consumers opened here and not closed: deleting their group or the topic closes them at once. */
  private readonly consumers = new Set<PortConsumer<T>>();
  /** Groups being deleted: asked again meanwhile, `deleteGroup` answers false. */
  private readonly deleting = new Set<string>();

  constructor(
    readonly name: string,
    readonly settings: TopicSettings,
    private readonly engine: Engine,
    readonly backend: Promise<TopicBackend>,
  ) {
    backend.then(
      (b) => (this.current = b),
      () => undefined,
    );
  }

  get closed(): boolean {
    return this.closing !== undefined || this.current?.stats().closed === true;
  }

  get tail(): number {
    return this.stats().tail;
  }

  get overflow(): OverflowPolicy {
    return this.settings.overflow;
  }

  publish(value: T, options?: PublishOptions<T>): Promise<number> {
    return this.publishEntries([value], options).then((offsets) => offsets[0]!);
  }

  publishBatch(values: Iterable<T>, options?: BatchOptions<T> & { readonly entries?: false }): Promise<number[]>;
  publishBatch(entries: Iterable<BatchEntry<T>>, options: BatchOptions<T> & { readonly entries: true }): Promise<number[]>;
  publishBatch(values: Iterable<unknown>, options?: BatchOptions<T>): Promise<number[]> {
    let list: unknown[];
    let batch: ReturnType<typeof batchSettings>;
    try {
      batch = options === undefined ? { settings: publishSettings(undefined), entries: false } : batchSettings(options);
      if (values === null || typeof values === 'string' || typeof (values as Iterable<unknown>)?.[Symbol.iterator] !== 'function') {
        throw new ConfigError('values', `\`values\` must be an iterable, got ${v.describe(values)}`);
      }
      list = [...values];
    } catch (e) {
      return Promise.reject(e);
    }
    if (list.length === 0) return this.closedError() ?? Promise.resolve([]);
    let entries: PublishEntry[];
    try {
      if (batch.entries) {
        entries = list.map((entry, i) => {
          const { value, settings } = entrySettings(entry, i, batch.settings);
          return { value, ...settingsEntry(this.engine, settings, this.settings.priorities, `entries[${i}].priority`) };
        });
      } else {
        const rest = settingsEntry(this.engine, batch.settings, this.settings.priorities);
        entries = list.map((value) => ({ ...rest, value }));
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return this.sendEntries(entries, batch.settings.signal);
  }

  tryPublish(_value: T, options?: PublishOptions<T>): boolean {
    entryOptions(this.engine, options, this.settings.priorities);
    if (this.closed) throw new ClosedError(`topic \`${this.name}\` is closed`);
    return false;
  }

  consumer(options?: ConsumerOptions<T>): Consumer<T> {
    return this.open(consumerOptions(options));
  }

  messages(options?: ConsumerOptions<T>): Observable<Delivery<T>> {
    const o = consumerOptions(options);
    this.checkConsumer(o);
    return messagesFace({ open: () => this.open(o) });
  }

  values(options?: ConsumerOptions<T>): Observable<T> {
    const o = consumerOptions(options);
    this.checkConsumer(o);
    return valuesFace({ open: () => this.open(o) });
  }

  readable(options?: ConsumerOptions<T>): ReadableStream<Delivery<T>> {
    const o = consumerOptions(options);
    this.checkConsumer(o);
    return readableFace({ open: () => this.open(o) });
  }

  writable(options?: WritableOptions): WritableStream<T> {
    return writableFace(this, options);
  }

  consume(options?: ConsumerOptions<T>): AsyncIterableX<Delivery<T>> {
    const o = consumerOptions(options);
    this.checkConsumer(o);
    return consumeFace({ open: () => this.open(o) });
  }

  stats(): TopicStats {
    return this.current?.stats() ?? emptyStats(this.name, this.settings.capacity);
  }

  /** Answers from the last snapshot (true if it showed the durable group); the engine deletes it in the background. */
  deleteGroup(name: string): boolean {
    v.name('name', name);
    if (this.deleting.has(name)) return false;
    const known = this.current === undefined ? this.settings.groups.includes(name) : this.current.stats().groups[name]?.durable === true;
    let local = false;
    for (const c of this.consumers) {
      if (c.group === name) {
        local = true;
        c.close();
      }
    }
    if (!known && !local) return false;
    this.deleting.add(name);
    this.backend
      .then((b) => b.deleteGroup(name))
      .catch(() => undefined)
      .finally(() => this.deleting.delete(name));
    return true;
  }

  close(): Promise<void> {
    this.closing ??= this.backend.then((b) => b.close());
    return this.closing;
  }

  /**
   * This bus is closing: its consumers close (returning what they hold) and it publishes no more,
   * while the engine's topic stays open for the other buses that share it.
   */
  detach(): void {
    for (const c of this.consumers) c.close();
    this.closing ??= Promise.resolve();
  }

  /** Closes the topic and removes it from the engine. */
  destroy(): Promise<void> {
    for (const c of this.consumers) c.close();
    this.closing ??= this.backend.then((b) => b.destroy());
    return this.closing;
  }

  /** Closed through this bus (a topic closed elsewhere is refused by the engine). */
  private closedError(): Promise<never> | undefined {
    return this.closing !== undefined ? Promise.reject(new ClosedError(`topic \`${this.name}\` is closed`)) : undefined;
  }

  private publishEntries(values: readonly T[], options: PublishOptions<T> | undefined): Promise<number[]> {
    let rest: Omit<PublishEntry, 'value'>;
    try {
      rest = entryOptions(this.engine, options, this.settings.priorities);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.sendEntries(values.map((value) => ({ ...rest, value })), options?.signal);
  }

  private sendEntries(entries: readonly PublishEntry[], signal: AbortSignal | undefined): Promise<number[]> {
    const closed = this.closedError();
    if (closed !== undefined) return closed;
    const open = this.current;
    if (open === undefined) return abortable(this.backend.then((b) => b.publish(entries, signal)), signal);
    try {
      return abortable(open.publish(entries, signal), signal);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private checkConsumer(o: ConsumerOptions<T>): void {
    refuseLacking(this.engine, 'returnOnGc', o.returnOnGc === true ? true : undefined);
  }

  private open(o: ConsumerOptions<T>): PortConsumer<T> {
    this.checkConsumer(o);
    const prefetch = o.prefetch ?? 256;
    const member: MemberOptions = { prefetch, ...(o.group === undefined ? {} : { group: o.group }), ...(o.from === undefined ? {} : { from: o.from }), ...(o.ack === undefined ? {} : { ack: o.ack }) };
    const port = new PendingMember<T>(this.backend, member, o.group ?? '');
    const c = new PortConsumer<T>(this.name, port, { filter: o.filter, signal: o.signal, prefetch }, () => this.consumers.delete(c));
    this.consumers.add(c);
    return c;
  }
}
