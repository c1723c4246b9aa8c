import { DEAD, FRESH, type GroupMember, INFLIGHT, SETTLED, WAITING } from './group-types.js';
import type { Members } from './members.js';
import type { Settle } from './settle.js';
import { type GroupState, STALE_LANE } from './state.js';

/**
 * What moves a consumer group's positions from outside its deliveries: a commit, a seek, the
 * ring's head passing the committed offset (eviction, expiry), a delayed message coming due, and
 * the group's deletion.
 */
export class Positions<T> {
  private readonly group: GroupState<T>;
  private readonly settle: Settle<T>;
  private readonly members: Members<T>;

  constructor(group: GroupState<T>, settle: Settle<T>, members: Members<T>) {
    this.group = group;
    this.settle = settle;
    this.members = members;
  }

  /** Settles everything below `offset` (monotonic: a lower offset is a no-op). */
  commit(offset: number): void {
    const g = this.group;
    const ring = g.host.ring;
    const to = Math.min(offset, ring.tail);
    if (to <= g.committed) return;
    let from = g.committed;
    if (g.runStart !== -1) {
      if (to >= g.runEnd) {
        // the whole lone run at once: nothing of it is in slot state, nor in `pending` and `inflight`
        const handed = g.runEnd - g.runBase;
        (g.runOwner as GroupMember<T>).held -= g.runEnd - g.runStart;
        g.delivered += handed;
        g.acked += handed;
        from = g.runEnd;
        g.runStart = -1;
        g.runEnd = -1;
        g.runOwner = null;
      } else g.solidify();
    } else g.solidify(); // an empty run ends
    const { tag, state, owner, mask } = g;
    const live = ring.live;
    const rmask = ring.mask;
    // counted in locals, written once: a batch settle walks a run of slots held by one member
    let acked = 0;
    let settled = 0;
    let released = 0;
    let holder: GroupMember<T> | null = null;
    let held = 0;
    for (let off = from; off < to; off++) {
      const i = off & mask;
      const s = tag[i] === off ? state[i] : FRESH;
      if (s === SETTLED) continue;
      if (s === FRESH) {
        // never delivered (at or past the cursor): committing past it acks it (or it had expired)
        if (off >= g.next) {
          if (live[off & rmask] === 1) acked++;
          else g.expired++;
        }
        continue;
      }
      if (s === INFLIGHT) {
        const o = owner[i];
        owner[i] = null;
        released++;
        if (o !== holder) {
          if (holder !== null) holder.held -= held;
          holder = o;
          held = 0;
        }
        held++;
      }
      if (s !== DEAD) acked++;
      settled++;
      state[i] = SETTLED;
    }
    if (holder !== null) holder.held -= held;
    g.acked += acked;
    g.pending -= settled;
    g.inflight -= released;
    g.committed = to;
    if (g.next < to) g.next = to;
    g.journal.commit(to);
    this.settle.advanceCommitted();
    if (g.ko !== null) this.settle.keysPassed();
    g.host.released(g.committed);
    this.members.wakeOwners();
  }

  /** Moves the next delivery to `offset` (clamped to what is retained); every outstanding delivery becomes stale. */
  seek(offset: number): void {
    const g = this.group;
    g.solidify();
    const ring = g.host.ring;
    const to = Math.max(ring.head, Math.min(offset, ring.tail));
    const from = Math.min(g.committed, to);
    const end = Math.max(g.next, to);
    for (let off = from; off < end; off++) {
      const i = off & g.mask;
      const s = g.tag[i] === off ? g.state[i] : FRESH;
      if (off < to && off >= g.committed && s !== SETTLED && s !== DEAD && (s !== FRESH || off >= g.next)) {
        if (ring.isLive(off)) g.missed++;
        else g.expired++; // expired before the group settled it
      }
      if (g.tag[i] === off) {
        if (s === INFLIGHT) g.release(i);
        g.tag[i] = -1;
        g.owner[i] = null;
      }
    }
    g.pending = 0;
    g.redeliver.clear();
    g.delayed.clear();
    g.lq?.clear();
    g.ko?.clear();
    // a lane hand-off under way is outstanding too: once the committed offset is back on its
    // offset, a member may take that offset again, and the lane's end must not settle the new delivery
    if (g.lane !== -1) g.lane = STALE_LANE;
    g.committed = to;
    g.next = to;
    g.host.committedLowered(to);
    g.journal.seek(to);
    g.host.released(g.committed);
    this.members.wakeOwners();
    this.members.wake();
  }

  /**
   * The ring's head moved past `head` (eviction or expiry): everything below is gone for this
   * group. Unsettled messages count as missed when `missed` (drop-oldest), else as expired.
   */
  clampTo(head: number, missed: boolean): void {
    const g = this.group;
    if (g.committed >= head) return;
    g.solidify();
    const end = Math.min(head, g.next);
    for (let off = g.committed; off < end; off++) {
      const i = off & g.mask;
      if (g.tag[i] !== off) continue;
      const s = g.state[i];
      if (s === INFLIGHT || s === WAITING || s === DEAD) {
        if (s === INFLIGHT) g.release(i);
        g.pending--;
        if (s !== DEAD) {
          if (missed) g.missed++;
          else g.expired++;
        }
        g.state[i] = SETTLED;
      }
    }
    const unreached = Math.max(0, head - Math.max(g.next, g.committed));
    if (missed) g.missed += unreached;
    else g.expired += unreached;
    g.committed = head;
    if (g.next < head) g.next = head;
    this.settle.advanceCommitted();
    if (g.ko !== null) this.settle.keysPassed();
  }

  /** Drop-oldest evicts `off` (the head) while this group may still need it. */
  dropped(off: number, live: boolean): void {
    const g = this.group;
    if (off < g.committed) return;
    g.solidify();
    const s = g.st(off);
    if (s === SETTLED) return;
    if (live || s !== FRESH) g.missed++;
    if (s === INFLIGHT || s === WAITING || s === DEAD) {
      if (s === INFLIGHT) g.release(off & g.mask);
      g.pending--;
    }
    g.set(off, SETTLED);
    if (g.next <= off) g.next = off + 1;
    if (off === g.committed) this.settle.advanceCommitted();
    if (g.ko !== null) this.settle.keysPassed();
  }

  /**
   * The delayed message at `off` came due. If the cursor passed it while it waited, it goes out
   * next as a first delivery: after the redeliveries, in offset order (key `Infinity` in the heap
   * sorts after every redelivery's offset key; ties go by offset). Otherwise the cursor gets to it.
   */
  cameDue(off: number): void {
    const g = this.group;
    if (off < g.committed || off >= g.next || g.st(off) !== WAITING) return;
    g.requeue(off);
  }

  /**
   * The group was deleted: every delivery it handed out becomes stale and nothing is returned,
   * redelivered or dead-lettered. Its members are closing (they take nothing more).
   */
  drop(): void {
    const g = this.group;
    g.tag.fill(-1);
    g.owner.fill(null);
    for (const m of g.members) m.held = 0;
    g.runStart = -1;
    g.runEnd = -1;
    g.runOwner = null;
    g.pending = 0;
    g.inflight = 0;
    g.redeliver.clear();
    g.delayed.clear();
    g.lq?.clear();
    g.ko?.clear();
    if (g.lane !== -1) g.lane = STALE_LANE;
  }
}
