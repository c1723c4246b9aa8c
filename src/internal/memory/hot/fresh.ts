/*
 * The hot room (docs/internals.md, "The hot room"). Code here is shaped for V8's optimizing
 * compiler rather than for reading: twins of a claim written out inline, fields born with a
 * representation, reads that exist for a map check. Each trick states the rule it serves and
 * how to see it (`npm run bench:ir`). No other room of src/internal holds such tricks: code
 * elsewhere calls what is here and stays plain.
 */
import { DeliveryImpl } from '../group/delivery.js';
import { type GroupMember, INFLIGHT } from '../group/group-types.js';
import type { KeyOrder } from '../group/key-order.js';
import type { Settle } from '../group/settle.js';
import type { GroupState } from '../group/state.js';
import type { Timers } from '../group/timers.js';

/** A group as the fresh takes see it: its state, and the parts a claim calls. */
export type FreshGroup<T> = GroupState<T> & { readonly settle: Settle<T>; readonly timers: Timers<T> };

/**
 * The pull faces' common take in one small pass: the next message is live and was never handed
 * out, nothing waits for redelivery, no TTL, no journal. Claims it for `member` (an ack timeout
 * armed) and returns its Delivery, or undefined when the caller must use `Take.takeRaw`.
 * Small on purpose: V8 inlines a face's `next()`, `ConsumerImpl.tryRecv` and this within one
 * budget (920 bytes of bytecode). Taken by the member that holds the lone run just before it, it
 * joins the run (`GroupState.runStart`) and writes no slot state at all; otherwise
 * {@link claimFresh} starts a run (from a caught-up group) or writes slot state.
 */
export function takeFresh<T>(g: FreshGroup<T>, member: GroupMember<T>): DeliveryImpl<T> | undefined {
  const off = g.next;
  const ring = g.host.ring;
  const i = off & g.mask;
  const r = off & ring.mask;
  if (off >= ring.tail || g.tag[i] === off || g.redeliver.size !== 0 || g.journal.records || ring.live[r] === 0 || g.host.ttlActive) return undefined;
  const after = off + 1;
  let gen: number;
  if (off === g.runEnd && member === g.runOwner) {
    // the lone run grows: its sweeper runs (whatever starts a run starts it, and a sweep writes
    // a run out before it stops), and its epoch is current
    gen = g.runGen;
    if (g.runStart === -1) g.runStart = off; // the run was empty: it starts again here
    g.runEnd = after;
  } else gen = claimFresh(g, member, off);
  g.next = after;
  member.held++; // the group's counters: the run counts itself, claimSlot counts the rest
  return new DeliveryImpl(g, gen, off, ring.values[r] as T, ring.keys[r], ring.headers[r], ring.stamps[r], 1);
}

/**
 * `takeFresh`'s claim of `off` when it does not grow the lone run: it starts one (the group is
 * caught up) or writes slot state. Out of line, so that `takeFresh` fits V8's inlining budget.
 * Returns the generation. Twin: the claim in publish.ts's `pushDelivery` and `fanOut`.
 */
function claimFresh<T>(g: FreshGroup<T>, member: GroupMember<T>, off: number): number {
  let epoch = Infinity;
  if (g.host.ackTimeoutMs !== Infinity) {
    epoch = g.epoch;
    if (g.sweeper === null) g.timers.startSweeper();
  }
  const gen = ++g.genSeq;
  if (off === g.committed) g.startRun(off, off + 1, gen, member, epoch); // caught up: no slot state
  else claimSlot(g, member, off, gen, epoch);
  return gen;
}

/**
 * The pull faces' take on a topic with `ordering: 'key'` when nothing else needs looking at (no
 * priorities, no delayed message, no redelivery waiting, no journal): the message at the cursor
 * when it is live and its key is free (or it has none), claimed for `member` in slot state,
 * never in a lone run (its ack must release the key). Undefined when the caller must use the
 * general take (which also sets a message whose key is held aside to wait for it).
 */
export function takeKeyed<T>(g: FreshGroup<T>, member: GroupMember<T>): DeliveryImpl<T> | undefined {
  const host = g.host;
  host.expireDue();
  const off = g.next;
  const ring = host.ring;
  const r = off & ring.mask;
  if (off >= ring.tail || g.tag[off & g.mask] === off || g.redeliver.size !== 0 || g.journal.records || ring.live[r] === 0 || host.delayed !== 0 || g.lq !== null) return undefined;
  const key = ring.keys[r];
  if (key !== undefined && !(g.ko as KeyOrder).claim(key, off)) return undefined;
  let epoch = Infinity;
  if (host.ackTimeoutMs !== Infinity) {
    epoch = g.epoch;
    if (g.sweeper === null) g.timers.startSweeper();
  }
  const gen = ++g.genSeq;
  claimSlot(g, member, off, gen, epoch);
  g.next = off + 1;
  member.held++;
  return new DeliveryImpl(g, gen, off, ring.values[r] as T, key, ring.headers[r], ring.stamps[r], 1);
}

/** `claimFresh` behind others: slot state, out of line (the inlining budget again). */
function claimSlot<T>(g: GroupState<T>, member: GroupMember<T>, off: number, gen: number, epoch: number): void {
  const i = off & g.mask;
  g.tag[i] = off;
  g.count[i] = 1;
  g.state[i] = INFLIGHT;
  g.gens[i] = gen;
  g.owner[i] = member;
  g.epochs[i] = epoch;
  g.pending++;
  g.inflight++;
  g.delivered++;
}

/**
 * A batch of first deliveries: claims up to `max` never-delivered messages from the cursor in
 * one pass (one generation for the batch: offsets tell its deliveries apart) and stores their
 * Deliveries in `out` from index `at`. Stops at the first message that needs the general path.
 * Returns how many. The lone run grows, or starts when caught up; otherwise slot state, the
 * claim written out in the loop (twin of {@link claimSlot}).
 */
export function takeBatch<T>(g: FreshGroup<T>, member: GroupMember<T>, max: number, out: DeliveryImpl<T>[], at: number): number {
  if (max <= 0 || g.redeliver.size !== 0 || g.host.ttlActive || g.journal.records) return 0;
  const ring = g.host.ring;
  const { values, keys, headers, stamps, live } = ring;
  const rmask = ring.mask;
  const { tag, count, state, gens, owner, epochs, mask } = g;
  const start = g.next;
  const end = Math.min(ring.tail, start + max);
  const timed = g.host.ackTimeoutMs !== Infinity;
  const epoch = timed ? g.epoch : Infinity;
  const grows = start === g.runEnd && member === g.runOwner;
  const lone = grows || start === g.committed;
  const gen = grows ? g.runGen : ++g.genSeq;
  let off = start;
  if (lone) {
    for (; off < end; off++) {
      const r = off & rmask;
      if (live[r] === 0 || tag[off & mask] === off) break;
      out[at++] = new DeliveryImpl(g, gen, off, values[r] as T, keys[r], headers[r], stamps[r], 1);
    }
    if (off > start) {
      if (!grows) g.startRun(start, off, gen, member, epoch);
      else {
        if (g.runStart === -1) g.runStart = start; // the run was empty: it starts again here
        g.runEnd = off;
      }
    }
  } else {
    for (; off < end; off++) {
      const r = off & rmask;
      const i = off & mask;
      if (live[r] === 0 || tag[i] === off) break;
      tag[i] = off;
      count[i] = 1;
      state[i] = INFLIGHT;
      gens[i] = gen;
      owner[i] = member;
      epochs[i] = epoch;
      out[at++] = new DeliveryImpl(g, gen, off, values[r] as T, keys[r], headers[r], stamps[r], 1);
    }
  }
  const k = off - start;
  g.next = off;
  member.held += k;
  if (!lone) {
    // a run counts itself (see GroupState.runStart)
    g.pending += k;
    g.inflight += k;
    g.delivered += k;
  }
  if (timed && k > 0 && g.sweeper === null) g.timers.startSweeper();
  return k;
}
