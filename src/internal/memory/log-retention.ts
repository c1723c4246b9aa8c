/**
 * Room in a topic's log, as functions over its state: retention (the head moves past what no
 * group needs), expiry, what the overflow strategy acts on ({@link Room}), and when publishers
 * waiting for room are let in.
 */
import type { Delays } from './delays.js';
import { releaseDue } from './log-delays.js';
import type { LogState } from './log-state.js';
import type { OverflowHost } from './overflow.js';
import { pow2AtLeast } from './ring.js';

/** The ring is full: expire, evict what no group needs, or ask the overflow strategy. */
export function makeRoom<T>(log: LogState<T>): boolean {
  expireDue(log);
  const ring = log.ring;
  for (;;) {
    if (ring.size < log.capacity) {
      if (ring.span >= ring.slots) relayout(log, ring.slots * 2); // tombstones hold slots
      return true;
    }
    if (ring.head < log.minCommitted()) {
      ring.evictHead();
      afterHeadMove(log);
      continue;
    }
    if (!log.strategy.onFull(log.room)) return false;
  }
}

/**
 * The head moved (expiry, eviction): every group whose committed offset it passed is clamped to
 * it. Room made meanwhile admits waiting publishers only once all are clamped: admitting during
 * the loop could re-lay the ring (and the groups' windows, from the new head) before a later
 * group had settled what it held below the head, losing those deliveries' state.
 */
export function afterHeadMove<T>(log: LogState<T>): void {
  const head = log.ring.head;
  log.journal.evicted(head);
  const was = log.clamping;
  log.clamping = true;
  try {
    for (const g of log.groupList) if (g.committed < head) g.clampTo(head, false);
  } finally {
    log.clamping = was;
  }
  if (!was && log.releaseDeferred) {
    log.releaseDeferred = false;
    releasedSlow(log);
  }
}

/** Re-lays the ring (and the levels, and every group's window) over `slots` slots. */
export function relayout<T>(log: LogState<T>, slots: number): void {
  const of = log.levelOf;
  if (of !== undefined) {
    const ring = log.ring;
    const next = new Uint8Array(slots);
    for (let off = ring.head; off < ring.tail; off++) next[off & (slots - 1)] = of[off & ring.mask];
    log.levelOf = next;
  }
  log.ring.resize(slots);
  for (const g of log.groupList) g.resize(slots);
}

/** What the overflow strategy acts on: the log's capacity, what its groups still need, eviction. */
export class Room<T> implements OverflowHost {
  constructor(private readonly log: LogState<T>) {}

  get capacity(): number {
    return this.log.capacity;
  }

  get needed(): number {
    const ring = this.log.ring;
    return ring.tail - Math.max(ring.head, this.log.minCommitted());
  }

  dropOldest(): void {
    const log = this.log;
    const ring = log.ring;
    const off = ring.head;
    for (const g of log.groupList) g.dropped(off, ring.isLive(off));
    log.dropped++;
    ring.evictHead();
    afterHeadMove(log);
  }

  setCapacity(capacity: number): void {
    const log = this.log;
    const ring = log.ring;
    log.capacity = capacity;
    setReleaseAt(log);
    const committed = log.minCommitted();
    while (ring.size > capacity && ring.head < committed) ring.evictHead();
    afterHeadMove(log);
    // growing: slots follow on demand (makeRoom doubles them); shrinking: give memory back
    const slots = pow2AtLeast(Math.max(capacity, ring.span, 1));
    if (slots < ring.slots) relayout(log, slots);
  }
}

/** Expires messages whose time has come, and releases delayed messages that came due (cheap when nothing is due). */
export function expireDue<T>(log: LogState<T>): void {
  if (log.expiry.due()) expireUntil(log, log.scheduler.now());
  if (log.delayed !== 0 && (log.delays as Delays).due()) releaseDue(log, false);
}

function expireUntil<T>(log: LogState<T>, now: number): void {
  log.expired += log.expiry.expire(log.ring, now, log.minCommitted());
  log.agedOut += log.expiry.agedOut;
  log.syncTtlActive();
  afterHeadMove(log);
}

/** The TTL timer fired: expire, let publishers in, and wake the groups of a closed topic. */
export function expiryFired<T>(log: LogState<T>): void {
  expireUntil(log, log.scheduler.now());
  releasedSlow(log);
  for (const g of log.groupList) if (log.closed) g.wake();
}

/** A publisher starts waiting, or a member found nothing and no room: the next settle must look. */
export function mayHunger<T>(log: LogState<T>): void {
  log.hungerSeen = true;
  log.releaseAt = -Infinity;
}

function setReleaseAt<T>(log: LogState<T>): void {
  const ring = log.ring;
  const mark = ring.tail - (log.capacity >>> 1);
  if (log.capacity !== log.settings.capacity) log.releaseAt = -Infinity;
  else if (log.queue.length === 0) log.releaseAt = Infinity;
  else log.releaseAt = log.hungerSeen || ring.head >= mark ? -Infinity : mark;
}

/**
 * Room may have been made (`released` found the committed offset at `releaseAt` or past it).
 * Waiting publishers go in once the ring has drained to half its capacity (a low-water mark, as
 * Node streams wait for 'drain'): a producer and a consumer in lock-step then trade one wake per
 * half ring instead of one per message. They go in at once when a member has nothing left to
 * take and waits for more (a pending `recv`, an attached face), and a consumer that finds nothing
 * admits them ({@link refill}): the mark never stalls anyone.
 */
export function releasedSlow<T>(log: LogState<T>): void {
  if (log.clamping) {
    log.releaseDeferred = true;
    return;
  }
  const queue = log.queue;
  if (queue.length > 0) {
    const ring = log.ring;
    const needed = ring.tail - Math.max(ring.head, log.minCommitted());
    if (needed <= log.capacity >>> 1) queue.admit();
    else if (log.hungerSeen) {
      if (hungry(log)) queue.admit();
      else log.hungerSeen = false;
    }
  }
  if (log.capacity !== log.settings.capacity) log.strategy.onRelease(log.room);
  setReleaseAt(log);
}

function hungry<T>(log: LogState<T>): boolean {
  const gl = log.groupList;
  for (let i = 0; i < gl.length; i++) if (gl[i].awaitPublish()) return true;
  return false;
}

/** A member found nothing to take: admits waiting publishers if there is any room; true when something was. */
export function refill<T>(log: LogState<T>): boolean {
  if (log.queue.length === 0) return false;
  const ring = log.ring;
  if (ring.size >= log.capacity && ring.head >= log.minCommitted()) {
    mayHunger(log); // no room: not worth a round, but the next settle must look
    return false;
  }
  const tail = ring.tail;
  log.queue.admit();
  setReleaseAt(log);
  return ring.tail !== tail;
}
