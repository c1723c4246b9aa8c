import type { DeadLetterReason, GroupMember } from './group-types.js';
import { Members } from './members.js';
import { Positions } from './positions.js';
import { Settle } from './settle.js';
import { type GroupHost, GroupState } from './state.js';
import { Take } from './take.js';
import { Timers } from './timers.js';

export type { DeadLetterReason, GroupHost };

/**
 * A consumer group: its state ({@link GroupState}: the window, `next`, `committed`, the lone run,
 * the counters) and the parts that act on it, each given what it calls: {@link Members} (who is
 * in it and who is woken: the waker of every other part), {@link Settle} (ack, nack, term,
 * returns, dead letters), {@link Timers} (ack timeouts, delays, `returnOnGc`), {@link Take}
 * (handing out) and {@link Positions} (commit, seek, the ring's head passing). The fresh takes
 * and the publish hand-offs live in memory/hot/ (fresh.ts, publish.ts) and take the group itself.
 */
export class Group<T> extends GroupState<T> {
  readonly roster: Members<T>;
  readonly timers: Timers<T>;
  readonly settle: Settle<T>;
  readonly take: Take<T>;
  readonly positions: Positions<T>;

  constructor(host: GroupHost<T>, name: string, durable: boolean, start: number) {
    super(host, name, durable, start);
    this.roster = new Members(this);
    this.timers = new Timers(this, this.roster);
    this.settle = new Settle(this, this.roster, this.timers);
    this.timers.returnThrough(this.settle);
    this.take = new Take(this, this.settle, this.timers);
    this.positions = new Positions(this, this.settle, this.roster);
  }

  /** Wakes members that can take a delivery (see `Members.wake`; a publish wakes through `wake` in hot/publish.ts). */
  wake(): void {
    this.roster.wake();
  }

  /** Re-evaluates {@link direct}. */
  updateDirect(): void {
    this.roster.updateDirect();
  }

  /** Everything has been handed out and a member is hungry: a waiting publisher should go in now. */
  awaitPublish(): boolean {
    return this.roster.awaitPublish();
  }

  join(member: GroupMember<T>): void {
    this.roster.join(member);
  }

  /** A member leaves; `keep`: what it handed downstream stays held (see `Settle.disown`), but `unseen`. */
  leave(member: GroupMember<T>, keep = false, unseen = -1): void {
    this.roster.remove(member);
    if (keep) this.settle.disown(member, unseen);
    else this.settle.returnAll(member);
    if (!this.durable && this.members.length === 0) this.host.dropPrivate(this);
    else this.wake();
  }

  commit(offset: number): void {
    this.positions.commit(offset);
  }

  seek(offset: number): void {
    this.positions.seek(offset);
  }

  clampTo(head: number, missed: boolean): void {
    this.positions.clampTo(head, missed);
  }

  dropped(off: number, live: boolean): void {
    this.positions.dropped(off, live);
  }

  cameDue(off: number): void {
    this.positions.cameDue(off);
  }

  drop(): void {
    this.positions.drop();
  }

  /** Stops the timers that have nothing to do (see `Timers.idle`). */
  idle(): void {
    this.timers.idle();
  }

  /** Stops every timer (topic deleted or group removed). */
  dispose(): void {
    this.timers.dispose();
  }
}
