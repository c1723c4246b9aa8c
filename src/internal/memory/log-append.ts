/**
 * Appending to a topic's log, as functions over its state: one message (the general path; the
 * lean one is hot/append-lean.ts), runs of a batch, and the wake of the groups for what was appended.
 */
import { pushLeveled } from './hot/publish.js';
import { delay, dueOf } from './log-delays.js';
import type { LogState } from './log-state.js';
import { makeRoom } from './log-retention.js';
import { EMPTY_HEADERS } from './ring.js';
import type { PublishSettings } from '../topic-options.js';

/** Appends one message if room can be made; returns its offset or -1. Wakes every group unless told not to. */
export function append<T>(log: LogState<T>, value: T, s: PublishSettings, wake: boolean): number {
  const ring = log.ring;
  const ttl = s.ttlMs < log.ttlMs ? s.ttlMs : log.ttlMs;
  const due = s.delayMs === 0 && s.deliverAt === 0 ? 0 : dueOf(log, s);
  let off: number;
  if (ring.size >= log.capacity || ring.tail - ring.head >= ring.mask + 1) {
    const slots = ring.mask + 1;
    if (ttl === Infinity && ring.size === slots && log.capacity === slots && ring.tail - ring.head === slots && ring.head < log.minCommitted()) {
      // steady state of a full ring: the oldest message was only kept for replay
      const stamp = log.clock.stamp();
      log.journal.append(ring.tail, value, s, stamp, Infinity, due);
      off = ring.overwrite(value, s.key, s.headers ?? EMPTY_HEADERS, stamp);
      log.journal.evicted(ring.head);
      log.published++;
      if (log.levelOf !== undefined) log.rank(off, s.priority);
      if (due !== 0) delay(log, off, due);
      if (wake) wakeFor(log, off, value);
      return off;
    }
    if (!makeRoom(log)) return -1;
  }
  const now = ttl === Infinity ? log.clock.stamp() : log.clock.now();
  const expires = ttl === Infinity ? Infinity : now + ttl;
  log.journal.append(ring.tail, value, s, now, expires, due);
  off = ring.append(value, s.key, s.headers ?? EMPTY_HEADERS, now, expires);
  log.published++;
  if (log.levelOf !== undefined) log.rank(off, s.priority);
  if (expires !== Infinity) {
    log.expiry.add(expires, off);
    log.ttlActive = true;
  }
  if (due !== 0) delay(log, off, due);
  if (wake) wakeFor(log, off, value);
  return off;
}

/**
 * Wakes the groups for the message just appended at `off`. On a topic with priorities, each
 * group hands it straight to its one member when nothing else waits (see `pushLeveled` in hot/publish.ts).
 */
function wakeFor<T>(log: LogState<T>, off: number, value: T): void {
  if (log.levelOf === undefined || log.delayed !== 0 || log.ordered || log.codec !== undefined) {
    log.wakeAll();
    return;
  }
  const gl = log.groupList;
  const level = log.levelOf[off & log.ring.mask];
  for (let i = 0; i < gl.length; i++) pushLeveled(gl[i], off, value, level);
}

/** Appends `list` from `from` one by one while there is room, without waking; returns where it stopped. */
export function appendEach<T>(log: LogState<T>, list: readonly T[], s: PublishSettings, each: readonly PublishSettings[] | undefined, offsets: number[], from: number): number {
  let i = from;
  for (; i < list.length; i++) {
    const off = append(log, list[i], each === undefined ? s : each[i], false);
    if (off < 0) break;
    offsets.push(off);
  }
  return i;
}

/**
 * The lean batch path: appends as much of `list` as fits in runs (free slots, or the oldest
 * slots of a full ring that nobody needs), one stamp per run, without waking anyone. Returns
 * how many went in (their offsets written to `offsets[0..n)`); the general path decides about
 * the rest.
 */
export function appendRuns<T>(log: LogState<T>, list: readonly T[], offsets: number[]): number {
  const ring = log.ring;
  let i = 0;
  while (i < list.length) {
    const slots = ring.mask + 1;
    let k = Math.min(log.capacity - ring.size, slots - (ring.tail - ring.head), list.length - i);
    let overwrite = false;
    if (k <= 0) {
      if (ring.size !== slots || log.capacity !== slots || ring.tail - ring.head !== slots) break;
      k = Math.min(log.minCommitted() - ring.head, list.length - i);
      if (k <= 0) break;
      overwrite = true;
    }
    const first = ring.appendRun(list, i, k, log.clock.stamp(), overwrite);
    for (let j = 0; j < k; j++) offsets[i + j] = first + j;
    i += k;
    log.published += k;
  }
  return i;
}
