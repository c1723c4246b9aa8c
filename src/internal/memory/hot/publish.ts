/*
 * The hot room (docs/internals.md, "The hot room"). Code here is shaped for V8's optimizing
 * compiler rather than for reading: twins of a claim written out inline, fields born with a
 * representation, reads that exist for a map check. Each trick states the rule it serves and
 * how to see it (`npm run bench:ir`). No other room of src/internal holds such tricks: code
 * elsewhere calls what is here and stays plain.
 */
import { DeliveryImpl } from '../group/delivery.js';
import { type GroupMember, INFLIGHT, type ValueSink } from '../group/group-types.js';
import type { LevelQueues } from '../group/levels.js';
import { laneDone } from '../group/take.js';
import type { FreshGroup } from './fresh.js';

/** A group as the publish hand-offs see it. */
export type PublishGroup<T> = FreshGroup<T> & { readonly roster: { wakeSlow(): void } };

/**
 * Wakes the group's members after a publish that was not handed straight to one: \`Members.wake\`
 * written out, one compare inlined into every publish (a call through \`Group.wake\` to
 * \`Members.wake\` inlines a level deeper and costs the publisher inlining budget).
 */
export function wake<T>(g: PublishGroup<T>): void {
  if (g.mayWake === true) g.roster.wakeSlow();
}

/**
 * Hands `off`, just published, to the {@link GroupState.direct} member's `messages()` subscriber
 * as a Delivery when the group has handed out everything before it, nothing waits for
 * redelivery and the member's window is open: the claim `Take.takeRaw` makes, without the wake
 * and the face's pass. Twin: the messages branch of {@link fanOut}; its claim is `claimFresh`'s
 * (fresh.ts) written out, since a call here shows in `messages()`'s count.
 */
export function pushDelivery<T>(g: PublishGroup<T>, m: GroupMember<T>, off: number, value: T): boolean {
  const sink = m.dsink;
  const i = off & g.mask;
  if (sink === null || m.busy || g.next !== off || g.redeliver.size !== 0 || m.held >= m.prefetch || sink.closed || g.tag[i] === off) return false;
  const gen = ++g.genSeq;
  let epoch = Infinity;
  if (g.host.ackTimeoutMs !== Infinity) {
    epoch = g.epoch;
    if (g.sweeper === null) g.timers.startSweeper();
  }
  if (off === g.committed) {
    // caught up: a lone run of one, no slot state (a subscriber that settles later, and takes
    // more meanwhile, writes slot state from the second on: this hand-off stays small)
    if (g.runEnd !== -1) g.solidify(); // an emptied run here ends first
    g.runStart = off;
    g.runEnd = off + 1;
    g.runGen = gen;
    g.runOwner = m;
    g.runEpoch = epoch;
    g.runBase = off;
  } else {
    g.tag[i] = off;
    g.count[i] = 1;
    g.state[i] = INFLIGHT;
    g.gens[i] = gen;
    g.owner[i] = m;
    g.epochs[i] = epoch;
    g.pending++;
    g.inflight++;
    g.delivered++;
  }
  g.next = off + 1;
  m.held++;
  const ring = g.host.ring;
  const r = off & ring.mask;
  const d = new DeliveryImpl(g, gen, off, value, ring.keys[r], ring.headers[r], ring.stamps[r], 1);
  m.busy = true;
  try {
    sink.next(d);
  } catch (e) {
    m.handOffFailed(e);
    return true;
  }
  m.busy = false;
  if (m.again) m.onAvailable();
  return true;
}

/**
 * Hands `off`, just published, straight to the {@link GroupState.direct} member's sink when the
 * group is caught up on it and the member is not already busy handing out: the lane, entered
 * from the publish instead of through a wake. Settled when the sink returns, returned if it
 * closed. False when the regular wake must run instead. Twin: the values branch of {@link fanOut}.
 */
export function push<T>(g: PublishGroup<T>, m: GroupMember<T>, off: number, value: T): boolean {
  const sink = m.sink;
  // committed === next === off: everything before `off` is settled, so no lane is open and
  // whatever the redelivery heap still holds is stale (take() skips it)
  if (sink === null || m.busy || g.next !== off || g.committed !== off || sink.closed) return false;
  g.next = off + 1;
  g.delivered++;
  g.lane = off;
  m.busy = true;
  try {
    sink.next(value);
  } catch (e) {
    pushThrew(g, m, off, e);
    return true;
  }
  m.busy = false;
  // `Take.laneDone(off, true)` for the common case, written out, everything else out of line.
  // This is inlined into the publisher, and whether V8 also inlines the subscriber's `next`
  // chain here turns on its exact shape: test `m.sink === sink` (close() clears it), not `!m.closed`
  if (g.committed === off && g.next === off + 1 && !sink.closed && m.sink === sink && !m.again && !g.host.closed && g.lane === off) {
    g.lane = -1;
    g.acked++;
    g.committed = off + 1;
    g.host.released(g.committed);
  } else pushSettle(g, m, off, sink);
  return true;
}

/**
 * A priority topic's publish hand-off: when nothing waits in the group (no level queue, no
 * redelivery, the cursor on `off`), the message just published is the only one to choose, so it
 * goes straight to the direct member as on a plain topic, counted to its `level`. Otherwise, or
 * when the member cannot take it now, the regular wake.
 */
export function pushLeveled<T>(g: PublishGroup<T>, off: number, value: T, level: number): void {
  const m = g.direct;
  const lq = g.lq as LevelQueues;
  if (m === null || lq.queued !== 0 || g.redeliver.size !== 0 || g.next !== off) {
    wake(g);
    return;
  }
  if (!(m.sink !== null ? push(g, m, off, value) : pushDelivery(g, m, off, value))) {
    wake(g);
    return;
  }
  lq.delivered(level);
  g.host.firstDelivered(level);
}

/**
 * The publish hand-off for a topic with several groups (several `values()` subscriptions, say):
 * {@link push} and {@link pushDelivery} for each group, written out in one loop (twins: keep them
 * in step). V8 inlines a publish into the publisher's own code, and with a call per group here it
 * runs out of its inlining budget before the subscribers' `next` chains; a body past V8's
 * per-function inlining limit (460 bytes of bytecode) is compiled on its own instead, with every
 * subscriber's chain inlined into this loop. A single group keeps calling `push`/`pushDelivery`,
 * where inlining the whole publish into the publisher is fastest. Its size:
 * `node --print-bytecode --print-bytecode-filter=fanOut`; the faces property in
 * test/reliability covers both paths.
 */
export function fanOut<T>(gl: readonly PublishGroup<T>[], off: number, value: T): void {
  for (let k = 0; k < gl.length; k++) {
    const g = gl[k];
    const m = g.direct;
    if (m === null) {
      wake(g);
      continue;
    }
    const sink = m.sink;
    if (sink !== null) {
      // push(), written out
      if (m.busy || g.next !== off || g.committed !== off || sink.closed) {
        wake(g);
        continue;
      }
      g.next = off + 1;
      g.delivered++;
      g.lane = off;
      m.busy = true;
      try {
        sink.next(value);
      } catch (e) {
        pushThrew(g, m, off, e);
        continue;
      }
      m.busy = false;
      if (g.committed === off && g.next === off + 1 && !sink.closed && m.sink === sink && !m.again && !g.host.closed && g.lane === off) {
        g.lane = -1;
        g.acked++;
        g.committed = off + 1;
        g.host.released(g.committed);
      } else pushSettle(g, m, off, sink);
      continue;
    }
    // pushDelivery(), written out
    const dsink = m.dsink;
    const i = off & g.mask;
    if (dsink === null || m.busy || g.next !== off || g.redeliver.size !== 0 || m.held >= m.prefetch || dsink.closed || g.tag[i] === off) {
      wake(g);
      continue;
    }
    const gen = ++g.genSeq;
    let epoch = Infinity;
    if (g.host.ackTimeoutMs !== Infinity) {
      epoch = g.epoch;
      if (g.sweeper === null) g.timers.startSweeper();
    }
    if (off === g.committed) {
      if (g.runEnd !== -1) g.solidify();
      g.runStart = off;
      g.runEnd = off + 1;
      g.runGen = gen;
      g.runOwner = m;
      g.runEpoch = epoch;
      g.runBase = off;
    } else {
      g.tag[i] = off;
      g.count[i] = 1;
      g.state[i] = INFLIGHT;
      g.gens[i] = gen;
      g.owner[i] = m;
      g.epochs[i] = epoch;
      g.pending++;
      g.inflight++;
      g.delivered++;
    }
    g.next = off + 1;
    m.held++;
    const ring = g.host.ring;
    const r = off & ring.mask;
    const d = new DeliveryImpl(g, gen, off, value, ring.keys[r], ring.headers[r], ring.stamps[r], 1);
    m.busy = true;
    try {
      dsink.next(d);
    } catch (e) {
      m.handOffFailed(e);
      continue;
    }
    m.busy = false;
    if (m.again) m.onAvailable();
  }
}

/**
 * `push`'s subscriber threw: the message goes back (while the member is still busy, so the
 * wake that causes only marks it), then the member fails and its face raises the error on its
 * next pull instead of being handed the message again.
 */
function pushThrew<T>(g: PublishGroup<T>, m: GroupMember<T>, off: number, e: unknown): void {
  laneDone(g, off, false);
  m.busy = false;
  m.fail(e);
}

/** `push`'s general ending: something moved during the hand-off, the subscriber left, or a wake arrived meanwhile. */
function pushSettle<T>(g: PublishGroup<T>, m: GroupMember<T>, off: number, sink: ValueSink<T>): void {
  laneDone(g, off, !sink.closed && !m.closed);
  if (m.again) m.onAvailable(); // a wake that arrived meanwhile (a publish from inside the sink)
}
