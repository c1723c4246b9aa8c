import type { DeliveryRecord, MemberListener, MemberOptions, MemberPort, Settlement } from '../../engine.js';
import type { Call, ClientMessage, WireDelivery } from './protocol.js';

/** What a {@link PortMember} needs of its connection. */
export interface MemberHost {
  readonly members: Map<number, PortMember<unknown>>;
  call(c: Call, backend?: unknown): Promise<unknown>;
  send(m: ClientMessage): void;
  ack(member: number, token: number): void;
  demandChanged(m: PortMember<unknown>): void;
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
export class PortMember<T> implements MemberPort<T> {
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
    private readonly client: MemberHost,
    private readonly options: MemberOptions,
  ) {
    this.group = options.group ?? '';
  }

  /** Asks the server for the member, on the topic under handle `topic`. */
  open(topic: number, backend: unknown): this {
    this.client.members.set(this.id, this as PortMember<unknown>);
    this.client.call({ op: 'member', topic, member: this.id, options: this.options }, backend).then(
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
    if (how.kind === 'ack') this.client.ack(this.id, record.token);
    else this.client.send({ op: 'settle', member: this.id, token: record.token, how });
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

