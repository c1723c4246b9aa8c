import type { Delivery, Headers, NackOptions } from '../../../types.js';
import { ConfigError } from '../../../errors.js';
import { describe, duration } from '../../validate.js';
import { inspectCustom, inspectFields, type Inspect } from '../../inspect.js';
import { ackRunHead, type Settle } from './settle.js';
import type { GroupState } from './state.js';
import type { GroupMember } from './group-types.js';

/**
 * The group a delivery came from, as the delivery sees it: its state, and `settle`, through
 * which alone it settles, passing its offset and generation.
 */
export type Settler<T> = GroupState<T> & { readonly settle: Settle<T> };

/**
 * One hand-off of one message. Methods live on the prototype (no closure per delivery); the
 * group decides validity by comparing `gen` with the slot's current generation, so a stale
 * delivery settles nothing.
 */
export class DeliveryImpl<T> implements Delivery<T> {
  /** @internal */ readonly g: Settler<T>;
  /** @internal */ readonly gen: number;
  readonly offset: number;
  readonly value: T;
  readonly key: string | undefined;
  readonly headers: Headers;
  readonly timestamp: number;
  readonly deliveryCount: number;

  constructor(g: Settler<T>, gen: number, offset: number, value: T, key: string | undefined, headers: Headers, timestamp: number, deliveryCount: number) {
    this.g = g;
    this.gen = gen;
    this.offset = offset;
    this.value = value;
    this.key = key;
    this.headers = headers;
    this.timestamp = timestamp;
    this.deliveryCount = deliveryCount;
  }

  get topic(): string {
    return this.g.host.name;
  }

  get group(): string {
    return this.g.name;
  }

  get redelivered(): boolean {
    return this.deliveryCount > 1;
  }

  get settled(): boolean {
    return !this.g.holds(this.offset, this.gen);
  }

  /**
   * The lone run's first delivery (the common case: a pull face takes one, acks it) is settled in
   * `ackRunHead`, everything else in `ackSlot`. The dispatch and the end of the run head's settle
   * (a closed topic's drained check, the owner's `onSettled`) are written here so that the loop
   * awaiting `recv()` inlines `ackRunHead` whole: docs/internals.md, "Idioms".
   */
  ack(): boolean {
    const g = this.g;
    if (this.offset !== g.runStart) return g.settle.ackSlot(this.offset, this.gen, this);
    if (this.gen !== g.runGen) return false;
    // read before the settle, which may wake publishers
    const owner = g.runOwner as GroupMember<T>;
    ackRunHead(g, this.offset);
    if (g.host.closed) g.settle.checkDrained();
    owner.onSettled();
    return true;
  }

  nack(options?: NackOptions): boolean {
    const delayMs = options?.delayMs === undefined ? 0 : duration('delayMs', options.delayMs, 0, false);
    return this.g.settle.nack(this.offset, this.gen, delayMs, this);
  }

  term(reason?: string): boolean {
    if (reason !== undefined && typeof reason !== 'string') {
      throw new ConfigError('reason', `\`reason\` must be a string, got ${describe(reason)}`);
    }
    return this.g.settle.term(this.offset, this.gen, reason, this);
  }

  inProgress(): boolean {
    return this.g.settle.touch(this.offset, this.gen);
  }

  [Symbol.dispose](): void {
    this.nack();
  }

  /**
   * An inert instance that lives as long as the class. V8 keeps the hidden class (map) an instance
   * ends up with only while some object has it; Deliveries are short-lived, so a full GC at a
   * moment when none is alive dropped it, and with it every optimized function built on it (the
   * take, wrap, hold and settle paths deoptimized, and the next Delivery got a new map). Seen in
   * the benchmarks after every repetition (`--trace-deopt`: "weak objects"). Its value, key and
   * headers are small integers, so that those fields start out general: a Delivery is built with
   * no type check on them and fewer map changes (`--print-opt-code`: two map stores, not five).
   * @internal
   */
  static readonly anchor: unknown = new DeliveryImpl(null as never, 0, 0, 0, 0 as never, 0 as never, 0.5, 1);

  /** `console.log(delivery)`: where it came from, whether it is settled, and the value. */
  [inspectCustom](depth: number, options: object, inspect?: Inspect): string {
    const { topic, group, offset, deliveryCount, settled, value } = this;
    return inspectFields('Delivery', { topic, group, offset, deliveryCount, settled, value }, depth, options, inspect);
  }

  toJSON(): object {
    return { topic: this.topic, group: this.group, offset: this.offset, key: this.key, headers: this.headers, timestamp: this.timestamp, deliveryCount: this.deliveryCount, value: this.value };
  }
}

// No `then` anywhere on the chain, on purpose: `recv()` resolves a promise with each delivery, and
// where V8 knows the delivery's map it proves the lookup of `then` finds nothing and fulfills the
// promise directly (ConsumerImpl.wait). Do not add a `then: undefined` either: it answers the
// run-time lookup sooner but defeats that proof, since it counts as found.
