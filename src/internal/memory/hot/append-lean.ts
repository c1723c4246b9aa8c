/**
 * The memory engine's JIT-serving code lives in hot/ (the rule: born.ts; why and how to check:
 * docs/internals.md, "The hot room").
 *
 * This file: the lean append, a hand-written twin of `Ring.append` and `Ring.overwrite` for a
 * plain message. Keep it in step with them.
 */
import type { Clock } from '../clock.js';
import { Group } from '../group/group.js';
import type { Ring } from '../ring.js';

/** What the lean append reads and writes of a topic's log. */
export interface LeanLog<T> {
  readonly ring: Ring<T>;
  readonly capacity: number;
  readonly clock: Clock;
  published: number;
  readonly groupList: Group<T>[];
  /** True when no group needs the oldest retained message. */
  headFree(): boolean;
}

/**
 * The common publish in one pass: no options, no codec, no store, no topic TTL, open. Returns
 * the offset, -1 when full (nothing changed), or -2 when the general `append` must decide.
 */
export function appendLean<T>(log: LeanLog<T>, value: T): number {
  const ring = log.ring;
  const slots = ring.mask + 1;
  const clock = log.clock;
  // Ring.append / Ring.overwrite for a message with no key, headers or TTL, in one pass: the
  // slot's stores written once for both (a channel past its first lap overwrites on every send,
  // and `overwrite` as a call did not fit in what the inlined publish left of V8's budget)
  const off = ring.tail;
  const i = off & ring.mask;
  if (off - ring.head < slots && ring.size < log.capacity) {
    ring.live[i] = 1;
    ring.size++;
  } else if (ring.size === slots && log.capacity === slots && log.headFree()) {
    ring.head++;
  } else return -2;
  if (ring.decorated) ring.undecorate(i);
  ring.tail = off + 1;
  ring.values[i] = value;
  // two stores, not one of a conditional: the cached stamp goes into the Float64Array as a raw
  // double (as one value with stamp()'s result, V8 boxes it in a fresh heap number first)
  if (clock.budget > 0) {
    clock.budget--;
    ring.stamps[i] = clock.cached;
  } else ring.stamps[i] = clock.stamp();
  log.published++;
  const gl = log.groupList;
  if (gl.length === 1) {
    const g = gl[0];
    const m = g.direct;
    if (m === null || !(m.sink !== null ? g.push(m, off, value) : g.pushDelivery(m, off, value))) g.wake();
  } else if (gl.length > 1) Group.fanOut(gl, off, value); // out of line on purpose: see there
  return off;
}
