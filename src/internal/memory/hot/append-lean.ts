/*
 * The hot room (docs/internals.md, "The hot room"). Code here is shaped for V8's optimizing
 * compiler rather than for reading: twins of a claim written out inline, fields born with a
 * representation, reads that exist for a map check. Each trick states the rule it serves and
 * how to see it (`npm run bench:ir`). No other room of src/internal holds such tricks: code
 * elsewhere calls what is here and stays plain.
 */
/**
 * The lean appends: hand-written twins of `Ring.append` and `Ring.overwrite` for a plain message
 * and for a message with only a priority level. Keep them in step with those and with each other.
 */
import type { Clock } from '../clock.js';
import type { Group } from '../group/group.js';
import { fanOut, push, pushDelivery, pushLeveled, wake } from './publish.js';
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
    if (m === null || !(m.sink !== null ? push(g, m, off, value) : pushDelivery(g, m, off, value))) wake(g);
  } else if (gl.length > 1) fanOut(gl, off, value); // out of line on purpose: see there
  return off;
}

/** What the leveled append reads and writes besides the lean append's. */
export interface LeveledLog<T> extends LeanLog<T> {
  readonly levelOf: Uint8Array | undefined;
  readonly levelPublished: Float64Array | undefined;
}

/**
 * The publish of a message with only a priority level, on a topic with priorities, in one pass:
 * `appendLean`'s ring write, the level, and the hand-off to each group. Returns the offset, or -2
 * when the general `append` must decide.
 */
export function appendLeveled<T>(log: LeveledLog<T>, value: T, level: number): number {
  const ring = log.ring;
  const off = ring.tail;
  const i = off & ring.mask;
  const slots = ring.mask + 1;
  if (off - ring.head < slots && ring.size < log.capacity) {
    ring.live[i] = 1;
    ring.size++;
  } else if (ring.size === slots && log.capacity === slots && log.headFree()) {
    ring.head++;
  } else return -2;
  if (ring.decorated) ring.undecorate(i);
  ring.tail = off + 1;
  ring.values[i] = value;
  const clock = log.clock;
  // the cached stamp in two stores, as in appendLean (see there)
  if (clock.budget > 0) {
    clock.budget--;
    ring.stamps[i] = clock.cached;
  } else ring.stamps[i] = clock.stamp();
  log.published++;
  (log.levelOf as Uint8Array)[i] = level;
  (log.levelPublished as Float64Array)[level]++;
  const gl = log.groupList;
  if (gl.length === 1) pushLeveled(gl[0], off, value, level);
  else for (let k = 0; k < gl.length; k++) pushLeveled(gl[k], off, value, level);
  return off;
}
