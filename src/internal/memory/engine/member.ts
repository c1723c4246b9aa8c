import type { DeliveryRecord, MemberListener, MemberPort, Settlement } from '../../../engine.js';
import { ConfigError } from '../../../errors.js';
import type { Consumer, Delivery, Headers } from '../../../types.js';
import type { ConsumerPort, ReadyListener } from '../../faces/port.js';

/** One delivery of a bus's consumer as a {@link DeliveryRecord}: settling it settles the delivery. */
class ConsumerRecord<T> implements DeliveryRecord<T> {
  readonly offset: number;
  readonly value: T;
  readonly key: string | undefined;
  readonly headers: Headers;
  readonly timestamp: number;
  readonly deliveryCount: number;

  constructor(private readonly d: Delivery<T>) {
    this.offset = d.offset;
    this.value = d.value;
    this.key = d.key;
    this.headers = d.headers;
    this.timestamp = d.timestamp;
    this.deliveryCount = d.deliveryCount;
  }

  /** Settled here, timed out, evicted, or passed by a commit or seek. */
  get settled(): boolean {
    return this.d.settled;
  }

  settle(how: Settlement): void {
    const d = this.d;
    switch (how.kind) {
      case 'ack':
        d.ack();
        break;
      case 'nack':
        d.nack({ delayMs: how.delayMs });
        break;
      case 'term':
        d.term(how.reason);
        break;
      case 'inProgress':
        d.inProgress();
        break;
    }
  }
}

/** A consumer of a bus made by `createBus` (every one is also the consumer port its faces use). */
export type PortedConsumer<T> = Consumer<T> & ConsumerPort<T>;

/** The consumer `topic.consumer()` returned, as the consumer port every consumer of this library is. */
export function portOf<T>(c: Consumer<T>): PortedConsumer<T> {
  const p = c as Partial<PortedConsumer<T>>;
  if (typeof p.tryRecv !== 'function' || typeof p.unsubscribe !== 'function' || !('onReady' in p)) {
    throw new ConfigError('bus', 'the bus must be one made by createBus(): its consumers are read through their consumer port');
  }
  return c as PortedConsumer<T>;
}

/**
 * A {@link MemberPort} over a consumer of a bus in this thread. Its local buffer is the topic
 * itself: `poll` takes the next delivery straight from the group, so nothing is taken ahead of
 * demand and a member nobody polls takes nothing from its competitors. Demand tells the consumer
 * whether anyone waits on it, which decides whether its group's redelivery timers keep the process
 * alive.
 */
export class ConsumerMember<T> implements MemberPort<T>, ReadyListener {
  onReady: MemberListener | null = null;
  error: unknown = undefined;
  private wanted = 0;
  private left = false;
  private signalled = false;

  constructor(
    private readonly consumer: PortedConsumer<T>,
    private readonly prefetch: number,
  ) {
    consumer.onReady = this;
  }

  get group(): string {
    return this.consumer.group;
  }

  get held(): number {
    return this.consumer.held;
  }

  get desiredSize(): number {
    return Math.max(0, Math.min(this.wanted, this.prefetch - this.consumer.held));
  }

  /** More demand: the face hears, in a microtask, that it may poll (what the topic holds may already do). */
  set desiredSize(n: number) {
    const more = n > this.wanted;
    this.wanted = n;
    if (more && !this.signalled) {
      this.signalled = true;
      queueMicrotask(() => {
        this.signalled = false;
        this.ready();
      });
    }
  }

  /** Read by the consumer: nobody waits while nothing is wanted. */
  get waiting(): boolean {
    return this.wanted > 0;
  }

  get done(): boolean {
    return this.left || this.error !== undefined || this.consumer.done;
  }

  /** The consumer may have something, or is done: tell the face when it wants something or must learn of the end. */
  ready(): void {
    if (this.wanted > 0 || this.done) this.onReady?.ready();
  }

  poll(): DeliveryRecord<T> | undefined {
    if (this.left || this.error !== undefined) return undefined;
    let d: Delivery<T> | undefined;
    try {
      d = this.consumer.tryRecv();
    } catch (e) {
      this.fail(e);
      return undefined;
    }
    if (d === undefined) return undefined;
    if (this.wanted > 0) this.wanted--;
    return new ConsumerRecord(d);
  }

  commit(offset: number): Promise<boolean> {
    try {
      return Promise.resolve(this.consumer.commit(offset));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  seek(offset: number): Promise<boolean> {
    try {
      return Promise.resolve(this.consumer.seek(offset));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  leave(): void {
    if (this.left) return;
    this.left = true;
    this.wanted = 0;
    this.consumer.unsubscribe(undefined);
  }

  close(): Promise<void> {
    this.wanted = 0;
    this.consumer.close();
    return Promise.resolve();
  }

  /** What the consumer threw while taking (a throwing `filter` on the served bus's side): the member fails with it. */
  private fail(e: unknown): void {
    this.error = e;
    this.consumer.close();
    this.onReady?.ready();
  }
}
