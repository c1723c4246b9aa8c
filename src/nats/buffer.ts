import type { Envelope } from './config.js';
import type { PulledMessage } from './pull.js';

/** A message pulled and not yet handed out. */
export interface Arrival {
  readonly msg: PulledMessage;
  readonly envelope: Envelope;
  /** When the server last started its ack wait: the delivery, or the last `working()`. */
  touched: number;
  readonly generation: number;
  readonly count: number;
}

/**
 * A member's local buffer. Messages waiting in it are kept from the server's ack timeout with
 * `working()`: the ack wait is for the face that takes a message, not for the time it waits to be
 * taken. The timer runs only while something waits, and keeps no process alive.
 */
export class ArrivalBuffer {
  private items: Arrival[] = [];
  private keepAlive: ReturnType<typeof setInterval> | undefined = undefined;

  constructor(private readonly ackWaitMs: number) {}

  get length(): number {
    return this.items.length;
  }

  push(a: Arrival): void {
    this.items.push(a);
    this.keep();
  }

  shift(): Arrival | undefined {
    return this.items.shift();
  }

  /** Takes everything out (to give back, or because it went stale). */
  clear(): Arrival[] {
    return this.items.splice(0);
  }

  /** Removes the arrival of stream sequence `seq`, if buffered. */
  remove(seq: number): void {
    const i = this.items.findIndex((a) => a.msg.seq === seq);
    if (i >= 0) this.items.splice(i, 1);
  }

  stop(): void {
    clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }

  private keep(): void {
    if (this.keepAlive !== undefined) return;
    const every = Math.max(10, this.ackWaitMs / 3);
    this.keepAlive = setInterval(() => {
      const now = Date.now();
      for (const a of this.items) {
        if (now - a.touched >= every) {
          a.msg.working();
          a.touched = now;
        }
      }
      if (this.items.length === 0) this.stop();
    }, every);
    (this.keepAlive as { unref?: () => void }).unref?.();
  }
}
