import { bornMutable } from '../hot/born.js';
import type { GroupMember, Waker } from './group-types.js';
import type { GroupState } from './state.js';

/**
 * A consumer group's members as the group sees them: who joins, which one a publish may hand
 * straight to (`direct`), and who is woken when a message becomes ready (round robin, without
 * recursion). It is the waker every other part is given.
 */
export class Members<T> implements Waker {
  private readonly group: GroupState<T>;
  /** True while a wake of several members runs (one under way marks `wakeAgain`). */
  waking = false;
  private wakeAgain = false;
  private rr = 0;

  constructor(group: GroupState<T>) {
    this.group = group;
    bornMutable(this, 'waking');
  }

  /**
   * Wakes members that can take a delivery. Small on purpose: every publish inlines it, and what
   * is inlined counts against V8's budget for the publisher.
   */
  wake(): void {
    if (this.group.mayWake === true) this.wakeSlow();
  }

  /** `wake` when some member may be wakeable: wakes, then learns whether any still is (the outermost wake only). */
  wakeSlow(): void {
    const ms0 = this.group.members;
    if (ms0.length === 1 && !this.waking) ms0[0].onAvailable(); // one member guards its own re-entrance
    else this.wakeAll();
    if (!this.waking) this.group.mayWake = this.wakeable();
  }

  private wakeable(): boolean {
    const g = this.group;
    if (g.direct !== null) return true;
    const ms = g.members;
    for (let i = 0; i < ms.length; i++) if (ms[i].wakeable()) return true;
    return false;
  }

  /** `wake` with several members, none or a wake under way. */
  private wakeAll(): void {
    if (this.waking) {
      this.wakeAgain = true;
      return;
    }
    this.waking = true;
    try {
      do {
        this.wakeAgain = false;
        const ms = this.group.members;
        const n = ms.length;
        if (n === 1) ms[0].onAvailable();
        else if (n > 1) {
          const start = this.rr++ % n;
          for (let k = 0; k < n && k < ms.length; k++) ms[(start + k) % ms.length].onAvailable();
        }
      } while (this.wakeAgain);
    } finally {
      this.waking = false;
    }
  }

  /** Tells every open member that positions moved (a commit or seek): each looks again. */
  wakeOwners(): void {
    const ms = this.group.members;
    if (ms.length === 1) ms[0].onAvailable();
    else for (const m of ms.slice()) if (!m.closed) m.onAvailable();
  }

  /** Re-evaluates `GroupState.direct` (a member joined, left, or attached or detached a sink). */
  updateDirect(): void {
    const g = this.group;
    const ms = g.members;
    g.direct = ms.length === 1 && (ms[0].sink !== null || ms[0].dsink !== null) && !g.journal.records ? ms[0] : null;
    if (g.direct !== null) g.mayWake = true; // its hand-offs set `busy`
  }

  /**
   * Everything has been handed out and a member is hungry (waits for a message it has room for):
   * a waiting publisher should go in now.
   */
  awaitPublish(): boolean {
    const g = this.group;
    if (g.next < g.host.ring.tail || g.redeliver.size !== 0 || (g.lq !== null && g.lq.queued !== 0)) return false;
    const ms = g.members;
    for (let i = 0; i < ms.length; i++) if (ms[i].hungry) return true;
    return false;
  }

  join(member: GroupMember<T>): void {
    this.group.members.push(member);
    this.updateDirect();
  }

  /** Takes `member` off the list. */
  remove(member: GroupMember<T>): void {
    const ms = this.group.members;
    const i = ms.indexOf(member);
    if (i >= 0) ms.splice(i, 1);
    this.updateDirect();
  }
}
