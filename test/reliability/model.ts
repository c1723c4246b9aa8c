/**
 * A plain reference model of one topic with durable groups, written from DESIGN.md §2 and
 * docs/semantics.md (not from the engine's data structures): messages, a head/tail window,
 * per-group cursor and outstanding deliveries, and every counter of `stats()`.
 *
 * Each message gets, per group, exactly one *fate* each time the group passes it:
 * acked | deadLettered | expired | filtered | missed (a `commit(n)` acks what it settles, per
 * docs/semantics.md). A backward `seek` re-opens settled offsets (`reopened`). At the end, for
 * every group:
 *
 *   acked + deadLettered + expired + filtered + missed = published + reopened
 *
 * Time: operations run at integer virtual times. TTLs are `k + 1/64`, ack timeouts `k + 1/2`
 * and nack delays `k + 1/4` (exact binary fractions), so an expiry and an ack timeout can only
 * coincide after a long chain of expiry-triggered admissions; the model detects that tie and
 * stops comparing (`tie`), because the engine's order between the two timers is unspecified.
 */
import type { Delivery } from '../../src/index.js';

export type Policy = 'block' | 'drop-oldest' | 'reject' | 'grow';

export interface ModelConfig {
  readonly policy: Policy;
  readonly capacity: number;
  readonly maxCapacity: number;
  readonly growthFactor: number;
  readonly shrinkThreshold: number;
  readonly ttlMs: number;
  readonly ackTimeoutMs: number;
  readonly maxDeliveries: number;
  readonly groups: readonly string[];
}

export type Fate = 'acked' | 'deadLettered' | 'expired' | 'filtered' | 'missed';

interface Msg {
  value: number;
  expires: number;
  live: boolean;
}

export interface Held {
  kind: 'held';
  cid: number;
  d: Delivery<number> | null;
  /** The group's sweep epoch when delivered or last `inProgress()`. */
  stamp: number;
  /** Time of that stamp (for the timeout bound check). */
  since: number;
}
interface Waiting {
  kind: 'waiting';
  ready: number;
}

export class MGroup {
  next = 0;
  out = new Map<number, Held | Waiting>();
  count = new Map<number, number>();
  acked = 0;
  deadLettered = 0;
  expired = 0;
  filtered = 0;
  missed = 0;
  delivered = 0;
  nacked = 0;
  redelivered = 0;
  reopened = 0;
  /** Fates the engine drops because of a known, open bug (always 0 while no bug is open). */
  knownLost = 0;
  /** Highest offset given as a first delivery since the last seek (order invariant). */
  lastFirst = -1;
  /**
   * Ack timeouts as the engine implements them (src/internal/memory/group/group.ts, epoch sweeps): a sweep
   * every `ackTimeoutMs / 4` while deliveries are held; a delivery stamped at epoch e goes back
   * at the sweep that makes the epoch e + 5 — so after more than `ackTimeoutMs` and at most
   * 1.25 × `ackTimeoutMs`, which `advance` asserts independently.
   */
  epoch = 0;
  sweepAt = Infinity;
  /**
   * When that sweep was armed, in the model's order of arming: sweeps of two groups due at the
   * same instant run in the order they were scheduled, as the engine's timers do (RxJS's virtual
   * time orders equal times by scheduling).
   */
  sweepSeq = 0;
  /**
   * The committed offset as the engine keeps it. Equal to `floor` (lowest outstanding offset, or
   * `next`) in strict mode; with the known bug `floorStuckOnSkippedTombstone` it does not move
   * when the cursor skips an expired message, only when an offset at it is settled.
   */
  ef = 0;
  constructor(readonly name: string) {}

  get floor(): number {
    let f = this.next;
    for (const off of this.out.keys()) if (off < f) f = off;
    return f;
  }

  fate(f: Fate): void {
    this[f]++;
  }
}

export class MConsumer {
  held = new Set<number>();
  closed = false;
  constructor(
    readonly id: number,
    readonly g: MGroup,
    readonly prefetch: number,
    readonly filter: boolean,
    readonly auto: boolean,
  ) {}
}

export interface MPublish {
  values: number[];
  index: number;
  offsets: number[];
  ttl: number;
  /** 'pending' | 'ok' | 'rejected' as the model expects */
  state: 'pending' | 'ok' | 'rejected';
}

/** The rejected-value predicate of filtering consumers. */
export const filterRejects = (value: number): boolean => value % 5 === 0;

export class Model {
  now = 0;
  head = 0;
  tail = 0;
  size = 0;
  capacity: number;
  msgs: Msg[] = [];
  groups: MGroup[];
  consumers: MConsumer[] = [];
  waiting: MPublish[] = [];
  published = 0;
  rejected = 0;
  dropped = 0;
  expiredTopic = 0;
  deadLetters = 0;
  seqValue = 0;
  /** An expiry and an ack timeout fell on the same instant: order unspecified, stop comparing. */
  tie = false;
  usedSeek = false;
  usedCommit = false;

  constructor(
    readonly cfg: ModelConfig,
    readonly known: {
      seekSkipsExpiredUncounted: boolean;
      commitSkipsExpiredUncounted: boolean;
      deadLetterOfExpiredUncounted: boolean;
      floorStuckOnSkippedTombstone: boolean;
      growShrinksBelowNeeded: boolean;
    } = {
      growShrinksBelowNeeded: false,
      seekSkipsExpiredUncounted: false,
      commitSkipsExpiredUncounted: false,
      deadLetterOfExpiredUncounted: false,
      floorStuckOnSkippedTombstone: false,
    },
  ) {
    this.capacity = cfg.capacity;
    this.groups = cfg.groups.map((n) => new MGroup(n));
  }

  isLive(off: number): boolean {
    return off >= this.head && off < this.tail && this.msgs[off].live;
  }

  minFloor(): number {
    let m = this.tail;
    for (const g of this.groups) m = Math.min(m, g.ef);
    return m;
  }

  /** A committed offset moved forward: the engine's `released()`, inline, as the engine runs it. */
  private advanceEf(g: MGroup): void {
    const before = g.ef;
    while (g.ef < g.next && !g.out.has(g.ef)) g.ef++;
    if (g.ef !== before) this.released();
  }

  /** `off` was settled for `g`. */
  private settled(g: MGroup, off: number): void {
    if (off === g.ef) this.advanceEf(g);
  }

  /** Live messages some group still needs. */
  liveNeeded(): number {
    const f = Math.max(this.head, this.minFloor());
    let n = 0;
    for (let o = f; o < this.tail; o++) if (this.msgs[o].live) n++;
    return n;
  }

  // ---- ring -------------------------------------------------------------------------------

  private evictHead(): void {
    if (this.head === this.tail) return;
    const m = this.msgs[this.head];
    if (m.live) {
      m.live = false;
      this.size--;
    }
    this.head++;
    this.skipTombstones();
  }

  private skipTombstones(): void {
    while (this.head < this.tail && !this.msgs[this.head].live) this.head++;
  }

  /**
   * Clamps every group the head passed. As in the engine (2d88d21), a release asked for while
   * the groups are clamped runs once all are: admitting between two groups' clamps would see a
   * floor not yet moved.
   */
  private afterHeadMove(): void {
    const was = this.clamping;
    this.clamping = true;
    try {
      for (const g of this.groups) if (g.ef < this.head) this.clampTo(g, this.head, false);
    } finally {
      this.clamping = was;
    }
    if (!was && this.releaseDeferred) {
      this.releaseDeferred = false;
      this.released();
    }
  }

  private clamping = false;
  private releaseDeferred = false;

  /** Everything below `head` is gone for `g`. */
  private clampTo(g: MGroup, head: number, missed: boolean): void {
    const f: Fate = missed ? 'missed' : 'expired';
    for (const [off, e] of [...g.out]) {
      if (off >= head) continue;
      this.release(g, off, e);
      g.out.delete(off);
      g.fate(f);
    }
    for (let off = g.next; off < head; off++) g.fate(f);
    if (g.next < head) g.next = head;
    if (g.ef < head) {
      g.ef = head;
      this.advanceEf(g); // released() only if it moves past head, as in the engine
    }
  }

  private release(g: MGroup, off: number, e: Held | Waiting): void {
    if (e.kind !== 'held') return;
    const c = this.consumers[e.cid];
    c?.held.delete(off);
  }

  /** Appends if room can be made; returns the offset or -1. */
  private append(value: number, ttl: number): number {
    for (;;) {
      if (this.size < this.capacity) break;
      if (this.head < this.minFloor()) {
        this.evictHead();
        this.afterHeadMove();
        continue;
      }
      const p = this.cfg.policy;
      if (p === 'block' || p === 'reject') return -1;
      if (p === 'drop-oldest') {
        this.dropOldest();
        continue;
      }
      if (this.capacity >= this.cfg.maxCapacity) return -1;
      this.capacity = Math.min(this.cfg.maxCapacity, Math.max(this.capacity + 1, Math.ceil(this.capacity * this.cfg.growthFactor)));
    }
    const t = Math.min(ttl, this.cfg.ttlMs);
    const off = this.tail++;
    this.msgs[off] = { value, expires: t === Infinity ? Infinity : this.now + t, live: true };
    if (t !== Infinity) this.expiryKeys.push(this.now + t);
    this.size++;
    this.published++;
    return off;
  }

  private dropOldest(): void {
    const off = this.head;
    for (const g of this.groups) {
      if (off < g.ef) continue;
      const e = g.out.get(off);
      if (off < g.next && e === undefined) continue; // settled
      g.fate('missed');
      if (e !== undefined) {
        this.release(g, off, e);
        g.out.delete(off);
      }
      if (g.next <= off) g.next = off + 1;
      this.settled(g, off);
    }
    this.dropped++;
    this.evictHead();
    this.afterHeadMove();
  }

  /**
   * What the engine does when messages are released: admit waiting publishers (block), then let
   * `grow` shrink back while the messages still needed fall under `shrinkThreshold × capacity`.
   */
  released(): void {
    if (this.clamping) {
      this.releaseDeferred = true;
      return;
    }
    this.admit();
    this.shrink();
  }

  /**
   * Waiting publishers are admitted once what groups still need has fallen to half the capacity
   * (the low-water mark; extra calls find it unchanged), or when a consumer finds nothing ({@link refill}).
   */
  admit(): void {
    if (this.tail - Math.max(this.head, this.minFloor()) <= this.capacity >>> 1) this.admitWaiting();
  }

  /** A take found nothing: waiting publishers go in if there is any room; true when any did. */
  private refill(): boolean {
    if (this.waiting.length === 0) return false;
    const tail = this.tail;
    this.admitWaiting();
    return this.tail !== tail;
  }

  private shrink(): void {
    const { policy, capacity: base, growthFactor, shrinkThreshold } = this.cfg;
    if (policy !== 'grow' || this.capacity <= base) return;
    const needed = this.tail - Math.max(this.head, this.minFloor());
    let capacity = this.capacity;
    while (capacity > base && needed < capacity * shrinkThreshold) {
      const smaller = Math.max(base, Math.floor(capacity / growthFactor));
      if (smaller < needed && !this.known.growShrinksBelowNeeded) break; // never below what groups still need
      capacity = smaller;
    }
    if (capacity === this.capacity) return;
    this.capacity = capacity;
    const floor = this.minFloor();
    while (this.size > capacity && this.head < floor) this.evictHead();
    this.afterHeadMove();
  }

  private admitting = false;
  private admitWaiting(): void {
    if (this.admitting) return;
    this.admitting = true;
    try {
      this.admitLoop();
    } finally {
      this.admitting = false;
    }
  }

  private admitLoop(): void {
    while (this.waiting.length > 0) {
      const p = this.waiting[0];
      while (p.index < p.values.length) {
        const off = this.append(p.values[p.index], p.ttl);
        if (off < 0) return;
        p.offsets.push(off);
        p.index++;
      }
      this.waiting.shift();
      p.state = 'ok';
    }
  }

  // ---- publishing -------------------------------------------------------------------------

  tryPublish(value: number, ttl: number): boolean {
    if (this.waiting.length > 0) return false;
    if (this.append(value, ttl) >= 0) return true;
    if (this.cfg.policy !== 'block') this.rejected++;
    return false;
  }

  /** publish()/publishBatch(): returns the expectation record. */
  publish(values: number[], ttl: number): MPublish {
    const p: MPublish = { values, index: 0, offsets: [], ttl, state: 'pending' };
    if (this.waiting.length === 0) {
      for (; p.index < values.length; p.index++) {
        const off = this.append(values[p.index], ttl);
        if (off < 0) break;
        p.offsets.push(off);
      }
      if (p.index === values.length) {
        p.state = 'ok';
        return p;
      }
      if (this.cfg.policy !== 'block') {
        this.rejected += values.length - p.index;
        p.state = 'rejected';
        return p;
      }
    }
    this.waiting.push(p);
    return p;
  }

  // ---- delivery ---------------------------------------------------------------------------

  /** Offsets of `g` waiting for redelivery and ready now, lowest first. */
  ready(g: MGroup): number[] {
    const r: number[] = [];
    for (const [off, e] of g.out) if (e.kind === 'waiting' && e.ready <= this.now) r.push(off);
    return r.sort((a, b) => a - b);
  }

  /** What `tryRecv()` must hand out: `{ off, count }` (the model is updated), or undefined. */
  recv(c: MConsumer, d: () => Delivery<number> | null): { off: number; count: number; value: number } | undefined {
    if (c.closed || c.held.size >= c.prefetch) return undefined;
    const g = c.g;
    for (;;) {
      let off = -1;
      const r = this.ready(g);
      for (const o of r) {
        if (g.out.get(o)?.kind !== 'waiting') continue; // gone meanwhile: an admission moved the head past it
        g.out.delete(o);
        if (!this.isLive(o)) {
          g.fate('expired');
          this.settled(g, o);
          this.admit();
          continue;
        }
        off = o;
        break;
      }
      if (off < 0) {
        while (g.next < this.tail) {
          const o = g.next++;
          if (!this.isLive(o)) {
            g.fate('expired');
            // the engine moves its committed offset past a skipped expired message at it, with a
            // released() pass (the low-water mark may be reached now)
            if (!this.known.floorStuckOnSkippedTombstone && o === g.ef) {
              g.ef = o + 1;
              this.released();
            }
            continue;
          }
          off = o;
          break;
        }
      }
      if (off < 0) {
        if (this.refill()) continue;
        return undefined;
      }
      const value = this.msgs[off].value;
      if (c.filter && filterRejects(value)) {
        g.fate('filtered');
        this.settled(g, off);
        this.admit();
        continue;
      }
      const count = (g.count.get(off) ?? 0) + 1;
      g.count.set(off, count);
      g.delivered++;
      if (count > 1) g.redelivered++;
      if (c.auto) {
        g.fate('acked');
        this.settled(g, off);
        this.admit();
        d();
      } else {
        g.out.set(off, { kind: 'held', cid: c.id, d: d(), stamp: g.epoch, since: this.now });
        c.held.add(off);
        if (g.sweepAt === Infinity && this.cfg.ackTimeoutMs !== Infinity) this.armSweep(g, this.now + this.cfg.ackTimeoutMs / 4);
      }
      return { off, count, value };
    }
  }

  /** The group and entry holding `d`, if it is still the live holder. */
  holder(d: Delivery<number>): { g: MGroup; e: Held } | undefined {
    const g = this.groups.find((x) => x.name === d.group);
    if (g === undefined) return undefined;
    const e = g.out.get(d.offset);
    if (e === undefined || e.kind !== 'held' || e.d !== d) return undefined;
    return { g, e };
  }

  ack(d: Delivery<number>): boolean {
    const h = this.holder(d);
    if (h === undefined) return false;
    this.release(h.g, d.offset, h.e);
    h.g.out.delete(d.offset);
    h.g.fate('acked');
    this.settled(h.g, d.offset);
    this.admit();
    return true;
  }

  nack(d: Delivery<number>, delayMs: number): boolean {
    const h = this.holder(d);
    if (h === undefined) return false;
    this.release(h.g, d.offset, h.e);
    h.g.nacked++;
    this.giveBack(h.g, d.offset, delayMs, true);
    this.admit();
    return true;
  }

  term(d: Delivery<number>): boolean {
    const h = this.holder(d);
    if (h === undefined) return false;
    this.release(h.g, d.offset, h.e);
    this.deadLetter(h.g, d.offset, true);
    this.admit();
    return true;
  }

  inProgress(d: Delivery<number>): boolean {
    const h = this.holder(d);
    if (h === undefined) return false;
    h.e.stamp = h.g.epoch;
    h.e.since = this.now;
    return true;
  }

  private giveBack(g: MGroup, off: number, delayMs: number, withDelivery: boolean): void {
    if ((g.count.get(off) ?? 0) >= this.cfg.maxDeliveries) {
      this.deadLetter(g, off, withDelivery);
      return;
    }
    g.out.set(off, { kind: 'waiting', ready: this.now + delayMs });
  }

  /**
   * Dead-letters `off` for `g`. A message that expired meanwhile and is dead-lettered without
   * its Delivery (ack timeout, consumer close) is counted `expired` (DESIGN.md §2: an expired
   * message is removed and counted as expired); with its Delivery (term, nack) the value is
   * still at hand and is dead-lettered.
   */
  private deadLetter(g: MGroup, off: number, withDelivery: boolean): void {
    g.out.delete(off);
    if (!this.isLive(off) && !withDelivery) {
      if (this.known.deadLetterOfExpiredUncounted) g.knownLost++;
      else g.fate('expired');
      this.settled(g, off);
      return;
    }
    g.fate('deadLettered');
    this.deadLetters++;
    this.settled(g, off);
  }

  close(c: MConsumer): void {
    if (c.closed) return;
    c.closed = true;
    const g = c.g;
    // ascending, as the engine returns them; each return may settle (dead letter) and admit a
    // waiting publisher, whose eviction can expire a later held message first
    for (const off of [...c.held].sort((a, b) => a - b)) {
      if (!c.held.has(off)) continue;
      c.held.delete(off);
      this.giveBack(g, off, 0, false);
      this.admit();
    }
    this.admit();
  }

  seek(c: MConsumer, offset: number): void {
    this.usedSeek = true;
    const g = c.g;
    const to = Math.max(this.head, Math.min(offset, this.tail));
    const floor = g.floor;
    for (let off = floor; off < to; off++) {
      const e = g.out.get(off);
      if (e !== undefined || off >= g.next) {
        if (this.isLive(off)) g.fate('missed');
        else if (this.known.seekSkipsExpiredUncounted) g.knownLost++;
        else g.fate('expired');
      }
    }
    for (let off = to; off < g.next; off++) if (!g.out.has(off)) g.reopened++;
    for (const [off, e] of g.out) this.release(g, off, e);
    g.out.clear();
    const from = Math.min(floor, to);
    for (const off of [...g.count.keys()]) if (off >= from) g.count.delete(off);
    g.next = to;
    g.ef = to;
    g.lastFirst = -1;
    this.released();
  }

  commit(c: MConsumer, offset: number): void {
    this.usedCommit = true;
    const g = c.g;
    const to = Math.min(offset, this.tail);
    const floor = g.floor;
    if (to <= g.ef) return;
    for (let off = floor; off < to; off++) {
      const e = g.out.get(off);
      if (e !== undefined) {
        this.release(g, off, e);
        g.out.delete(off);
        g.fate('acked'); // semantics.md: commit(n) counts as acking what it settles
      } else if (off >= g.next) {
        if (this.isLive(off)) g.fate('acked');
        else if (this.known.commitSkipsExpiredUncounted) g.knownLost++;
        else g.fate('expired');
      }
    }
    if (g.next < to) g.next = to;
    if (g.ef < to) g.ef = to;
    this.advanceEf(g);
    this.released();
  }

  // ---- time -------------------------------------------------------------------------------

  /**
   * Expiry times of every message published with a TTL, evicted or not: the engine's expiry
   * timer fires at each of them (and calls `released()` even when nothing is left to expire).
   */
  private expiryKeys: number[] = [];

  private nextExpiry(): number {
    let t = Infinity;
    for (const k of this.expiryKeys) if (k < t) t = k;
    return t;
  }

  private nextDue(): number {
    let t = Infinity;
    for (const g of this.groups) if (g.sweepAt < t) t = g.sweepAt;
    return t;
  }

  private armed = 0;

  private armSweep(g: MGroup, at: number): void {
    g.sweepAt = at;
    g.sweepSeq = ++this.armed;
  }

  /** Ack timeouts returned outside (ackTimeoutMs, 1.25 × ackTimeoutMs] after the last stamp. */
  timeoutBoundViolations: string[] = [];

  /** Runs every timer due up to `now + ms`, in time order. */
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      const te = this.nextExpiry();
      const td = this.nextDue();
      const t = Math.min(te, td);
      if (t > target) break;
      if (te === td) this.tie = true;
      this.now = t;
      if (te === t) {
        this.expiryKeys = this.expiryKeys.filter((k) => k > t);
        for (let o = this.head; o < this.tail; o++) {
          const m = this.msgs[o];
          if (m.live && m.expires <= t) {
            m.live = false;
            this.size--;
            this.expiredTopic++;
          }
        }
        this.skipTombstones();
        this.afterHeadMove();
        this.released();
      } else {
        const T = this.cfg.ackTimeoutMs;
        for (const g of this.groups.filter((x) => x.sweepAt === t).sort((x, y) => x.sweepSeq - y.sweepSeq)) {
          g.sweepAt = Infinity;
          const limit = ++g.epoch - 5;
          const due = [...g.out].filter(([, e]) => e.kind === 'held' && e.stamp <= limit).map(([o]) => o);
          for (const off of due.sort((a, b) => a - b)) {
            const e = g.out.get(off);
            if (e === undefined || e.kind !== 'held') continue;
            const held = t - e.since;
            if (!(held > T && held <= 1.25 * T)) this.timeoutBoundViolations.push(`${g.name}/${off} returned after ${held} ms (ackTimeoutMs ${T})`);
            this.release(g, off, e);
            this.giveBack(g, off, 0, false);
            this.admit();
          }
          if (g.sweepAt === Infinity && [...g.out.values()].some((e) => e.kind === 'held')) this.armSweep(g, t + T / 4);
        }
        this.admit();
      }
    }
    this.now = target;
  }
}
