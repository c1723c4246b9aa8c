import type { DeliveryRecord, MemberPort, Settlement } from '../../engine.js';
import { ConfigError } from '../../errors.js';
import type { Consumer, Delivery, Headers, Message, NackOptions } from '../../types.js';
import type { ConsumerPort, ReadyListener } from '../faces/port.js';
import * as v from '../validate.js';

const ACK: Settlement = { kind: 'ack' };

/**
 * A delivery handed out over a {@link MemberPort}. Settling answers from local state at once: the
 * engine hears of it in the background. It goes stale when its consumer closes.
 */
class EngineDelivery<T> implements Delivery<T> {
  readonly offset: number;
  readonly value: T;
  readonly key: string | undefined;
  readonly headers: Headers;
  readonly timestamp: number;
  readonly deliveryCount: number;
  /** @internal */ done: boolean;

  constructor(
    private readonly owner: PortConsumer<T>,
    private readonly record: DeliveryRecord<T>,
  ) {
    this.offset = record.offset;
    this.value = record.value;
    this.key = record.key;
    this.headers = record.headers;
    this.timestamp = record.timestamp;
    this.deliveryCount = record.deliveryCount;
    this.done = record.settled;
  }

  get topic(): string {
    return this.owner.topic;
  }

  get group(): string {
    return this.owner.group;
  }

  get redelivered(): boolean {
    return this.deliveryCount > 1;
  }

  get settled(): boolean {
    this.checkStale();
    return this.done;
  }

  /** The engine said this delivery went stale (timed out, evicted, skipped by a seek). */
  private checkStale(): void {
    if (!this.done && this.record.settled) {
      this.done = true;
      this.owner.settled(this, false);
    }
  }

  ack(): boolean {
    return this.finish(ACK);
  }

  nack(options?: NackOptions): boolean {
    const delayMs = options?.delayMs === undefined ? 0 : v.duration('delayMs', options.delayMs, 0, false);
    return this.finish({ kind: 'nack', delayMs });
  }

  term(reason?: string): boolean {
    if (reason !== undefined && typeof reason !== 'string') throw new ConfigError('reason', `\`reason\` must be a string, got ${v.describe(reason)}`);
    return this.finish(reason === undefined ? { kind: 'term' } : { kind: 'term', reason });
  }

  inProgress(): boolean {
    this.checkStale();
    if (this.done) return false;
    this.record.settle({ kind: 'inProgress' });
    return true;
  }

  [Symbol.dispose](): void {
    this.nack();
  }

  private finish(how: Settlement): boolean {
    this.checkStale();
    if (this.done) return false;
    this.done = true;
    this.owner.settled(this, how.kind === 'nack');
    this.record.settle(how);
    return true;
  }
}

interface Waiter<T> {
  /** How many deliveries it asks for: 1 for `recv`, `max` for `recvBatch`. */
  readonly want: number;
  resolve(d: Delivery<T> | undefined): void;
  reject(e: unknown): void;
}

/** The consumer options a {@link PortConsumer} applies itself (they do not cross to the engine). */
export interface LocalConsumerOptions<T> {
  readonly filter: ((m: Message<T>) => boolean) | undefined;
  readonly signal: AbortSignal | undefined;
  readonly prefetch: number;
}

/**
 * `Consumer<T>` written once over a {@link MemberPort}: `recv`, `tryRecv`, `recvTimeout`,
 * `recvBatch`, iteration, `commit`, `seek` and `close`. It is also the {@link ConsumerPort} the
 * faces (`messages`, `values`, `readable`, `consume`) are built on.
 *
 * Demand: with a push face attached, or once iterated (`for await`, `consume()`), it asks for
 * `prefetch` (as much as the window allows); otherwise for as many as there are waiting `recv`
 * calls, so a member that nobody reads from takes nothing from its competitors.
 */
export class PortConsumer<T> implements Consumer<T>, ConsumerPort<T> {
  private readonly waiters: Waiter<T>[] = [];
  private listener: ReadyListener | null = null;
  private readonly handed = new Set<EngineDelivery<T>>();
  closed = false;
  aborted = false;
  abortReason: unknown = undefined;
  returns = 0;
  readonly more = true;
  /** Iterated by a for-await loop: it asks for deliveries ahead, as a stream does. */
  private iterating = false;

  constructor(
    readonly topic: string,
    private readonly member: MemberPort<T>,
    private readonly local: LocalConsumerOptions<T>,
    private readonly onClose: () => void = () => undefined,
  ) {
    member.onReady = this;
    const signal = local.signal;
    if (signal !== undefined) {
      if (signal.aborted) this.abort(signal.reason);
      else signal.addEventListener('abort', () => this.abort(signal.reason), { once: true });
    }
  }

  get group(): string {
    return this.member.group;
  }

  get held(): number {
    return this.handed.size;
  }

  get done(): boolean {
    return this.closed || this.member.done;
  }

  get onReady(): ReadyListener | null {
    return this.listener;
  }

  set onReady(listener: ReadyListener | null) {
    this.listener = listener;
    this.demand();
  }

  /** The member port's signal: serve waiting `recv` calls, then the attached face. */
  ready(): void {
    const failure = this.member.error;
    if (failure !== undefined && !this.closed) {
      this.abort(failure);
      return;
    }
    while (this.waiters.length > 0) {
      const d = this.take();
      if (d === undefined) break;
      this.waiters.shift()!.resolve(d);
    }
    if (this.done) this.endWaiters();
    this.listener?.ready();
    this.demand();
  }

  tryRecv(): Delivery<T> | undefined {
    if (this.closed) return undefined;
    const d = this.take();
    if (d === undefined) this.demand();
    return d;
  }

  recv(options?: { signal?: AbortSignal }): Promise<Delivery<T> | undefined> {
    return this.wait(options, Infinity);
  }

  recvTimeout(ms: number, options?: { signal?: AbortSignal }): Promise<Delivery<T> | undefined> {
    try {
      v.duration('ms', ms, 0, true);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.wait(options, ms);
  }

  async recvBatch(max: number, options?: { signal?: AbortSignal }): Promise<Delivery<T>[]> {
    v.integer('max', max, 1, 2 ** 20);
    const first = await this.wait(options, Infinity, max);
    if (first === undefined) return [];
    const out = [first];
    let d: Delivery<T> | undefined;
    while (out.length < max && (d = this.take()) !== undefined) out.push(d);
    return out;
  }

  commit(offset: number): boolean {
    v.integer('offset', offset, 0, Number.MAX_SAFE_INTEGER);
    if (this.closed) return false;
    this.member.commit(offset).catch(ignore);
    for (const d of this.handed) {
      if (d.offset < offset) {
        d.done = true; // stale: the group has settled it
        this.handed.delete(d);
      }
    }
    return true;
  }

  seek(offset: number): boolean {
    v.integer('offset', offset, 0, Number.MAX_SAFE_INTEGER);
    if (this.closed) return false;
    this.member.seek(offset).catch(ignore);
    for (const d of this.handed) d.done = true; // every outstanding delivery is stale now
    this.handed.clear();
    return true;
  }

  /** Leaves the group: every delivery still held goes stale and returns to the group. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    for (const d of this.handed) d.done = true;
    this.handed.clear();
    this.member.close().catch(ignore);
    this.endWaiters();
    this.listener?.ready();
  }

  /**
   * A push face's subscriber left: what it was handed stays settleable (until settled or timed
   * out), `unseen` and whatever is buffered return at once.
   */
  unsubscribe(unseen: Delivery<T> | undefined): void {
    if (this.closed) return;
    this.listener = null;
    unseen?.nack();
    this.closed = true;
    this.onClose();
    this.member.leave();
    this.endWaiters();
  }

  defer(work: () => void): void {
    setTimeout(work, 0);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<Delivery<T>> {
    // a for-await loop (and consume()) reads as a stream does: it asks for up to prefetch ahead
    this.iterating = true;
    this.demand();
    return {
      next: () => {
        // what is held locally is handed out without a wait (as recv would, one promise less)
        if (this.waiters.length === 0 && !this.closed && !this.aborted) {
          const d = this.take();
          if (d !== undefined) return Promise.resolve({ done: false, value: d });
        }
        return this.recv().then((d) => (d === undefined ? { done: true, value: undefined } : { done: false, value: d }));
      },
      return: async () => {
        this.close();
        return { done: true, value: undefined };
      },
    };
  }

  /** @internal A delivery of this consumer was settled. */
  settled(d: EngineDelivery<T>, returned: boolean): void {
    if (returned) this.returns++;
    if (this.handed.delete(d)) this.demand();
  }

  /** The next delivery held locally, past the filter (what it rejects is settled without being delivered). */
  private take(): Delivery<T> | undefined {
    const filter = this.local.filter;
    for (;;) {
      const r = this.member.poll();
      if (r === undefined) return undefined;
      const d = new EngineDelivery(this, r);
      if (filter !== undefined && !filter(d)) {
        if (!r.settled) r.settle(ACK);
        continue;
      }
      if (!d.done) this.handed.add(d);
      return d;
    }
  }

  private demand(): void {
    if (this.closed) return;
    const l = this.listener;
    let want = 0;
    if (l !== null || this.iterating) want = this.local.prefetch; // a push face, a stream or a loop holds up to prefetch ahead
    else for (const w of this.waiters) want += w.want;
    this.member.desiredSize = want;
  }

  private wait(options: { signal?: AbortSignal } | undefined, ms: number, want = 1): Promise<Delivery<T> | undefined> {
    let signal: AbortSignal | undefined;
    try {
      if (options !== undefined) signal = v.signal('signal', v.options<{ signal?: AbortSignal }>('recv options', options, ['signal']).signal);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.aborted) return Promise.reject(this.abortReason);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.closed) return Promise.resolve(undefined);
    const ready = this.waiters.length === 0 ? this.take() : undefined;
    if (ready !== undefined || this.member.done || ms === 0) return Promise.resolve(ready);
    return new Promise<Delivery<T> | undefined>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = (): void => {
        remove();
        reject(signal!.reason);
      };
      const remove = (): void => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.demand();
      };
      const w: Waiter<T> = {
        want,
        resolve: (d) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(d);
        },
        reject: (e) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      this.waiters.push(w);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (ms !== Infinity) {
        timer = setTimeout(() => {
          remove();
          resolve(undefined);
        }, ms);
      }
      this.demand();
    });
  }

  private endWaiters(): void {
    const waiters = this.waiters.splice(0);
    for (const w of waiters) {
      if (this.aborted) w.reject(this.abortReason);
      else w.resolve(undefined);
    }
  }

  private abort(reason: unknown): void {
    if (this.closed) return;
    this.aborted = true;
    this.abortReason = reason;
    this.close();
  }
}

function ignore(): void {}
