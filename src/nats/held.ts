import type { DeliveryRecord, Settlement } from '../engine.js';
import type { Headers } from '../types.js';
import type { Envelope } from './config.js';
import type { PulledMessage } from './pull.js';

/** What a held delivery needs of its member. */
export interface RecordOwner<T> {
  /** The delivery is settled or stale: it leaves the member's window. */
  drop(record: HeldRecord<T>): void;
  settle(record: HeldRecord<T>, how: Settlement): void;
}

/** A delivery handed out: stale once superseded, timed out, or its group moved (commit, seek). */
export class HeldRecord<T> implements DeliveryRecord<T> {
  gone = false;
  done = false;

  constructor(
    private readonly member: RecordOwner<T>,
    readonly msg: PulledMessage,
    private readonly envelope: Envelope,
    readonly deliveryCount: number,
    /** When the server redelivers it unless told otherwise (ack wait from the last send or `working()`). */
    public deadline: number,
  ) {}

  get offset(): number {
    return this.msg.seq - 1;
  }
  get value(): T {
    return this.envelope.value as T;
  }
  get key(): string | undefined {
    return this.envelope.key;
  }
  get headers(): Headers {
    return this.envelope.headers;
  }
  get timestamp(): number {
    return this.msg.timestamp;
  }
  get settled(): boolean {
    if (!this.done && !this.gone && Date.now() >= this.deadline) this.member.drop(this);
    return this.done || this.gone;
  }

  settle(how: Settlement): void {
    if (!this.settled) this.member.settle(this, how);
  }
}

