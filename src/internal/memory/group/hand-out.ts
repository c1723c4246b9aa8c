import type { Message } from '../../../types.js';
import type { ReadyListener } from '../../faces/port.js';
import { takeKeyed } from '../hot/fresh.js';
import type { DeliveryImpl } from './delivery.js';
import type { Group } from './group.js';
import type { GroupMember, ValueSink } from './group-types.js';
import { laneDone, laneOffset } from './take.js';

/** What the hand-out reads and calls on its member (`ConsumerImpl`). */
export interface HandingOut<T> extends GroupMember<T> {
  readonly g: Group<T>;
  readonly listener: ReadyListener | null;
  /** No filter, no `ack: 'auto'`, no codec: the fast paths apply. */
  readonly plain: boolean;
  readonly auto: boolean;
  /** Register deliveries with a FinalizationRegistry (pull faces). */
  readonly track: boolean;
  readonly filter: ((m: Message<T>) => boolean) | undefined;
  /** The value {@link takeGeneral} took. */
  taken: T | undefined;
  /** Where a `values()` face drains to (the group may push to it directly). */
  sink: ValueSink<T> | null;
  /** What a direct push's sink threw, for the face's next pull to raise. */
  readonly failure: unknown;
  /** Throws {@link failure}, once. */
  raise(): never;
  tryRecv(): DeliveryImpl<T> | undefined;
}

/**
 * Handing a member its deliveries past the fresh take (`takeFresh`, which `ConsumerImpl.tryRecv`
 * keeps inline): `takeRaw` and the general take (redeliveries, TTL, a codec, a filter,
 * `ack: 'auto'`) for a pull, and the `values()` drains, which hand values to a sink with no
 * Delivery allocated.
 */
export function tryRecvSlow<T>(c: HandingOut<T>): DeliveryImpl<T> | undefined {
  const take = c.g.take;
  if (c.plain) {
    if (c.g.host.ordered) {
      if (!c.track) {
        const g = c.g;
        const d = takeKeyed(g, c);
        if (d !== undefined) return d;
        // the cursor at the tail and nothing returned (no priorities): the general take would find nothing either
        if (g.next >= g.host.ring.tail && g.redeliver.size === 0 && g.lq === null) return refilled(c) ? c.tryRecv() : undefined;
      }
    } else {
      const off = take.takeRaw(c, true);
      if (off >= 0) return take.wrap(off, c.track);
      if (off === -1) return refilled(c) ? c.tryRecv() : undefined;
    }
  }
  const off = takeGeneral(c);
  if (off < 0) return refilled(c) ? c.tryRecv() : undefined;
  const value = c.taken as T;
  c.taken = undefined;
  return take.deliver(c, off, c.auto, c.track, value);
}

/**
 * A take found nothing: unless the face still buffers deliveries for its reader, waiting
 * publishers go in now if there is any room (the low-water mark must never stall a consumer).
 * True when something was admitted: take again.
 */
function refilled<T>(c: HandingOut<T>): boolean {
  return (c.listener === null || c.listener.hungry !== false) && c.g.host.refill();
}

/**
 * The general path of a take: redeliveries, TTL, a codec, a filter. Returns the claimed offset
 * (its value, decoded, in `taken`) or -1 when nothing is ready.
 */
function takeGeneral<T>(c: HandingOut<T>): number {
  const take = c.g.take;
  const ring = c.g.host.ring;
  const filter = c.filter;
  const plain = c.g.host.decode === undefined;
  for (;;) {
    const off = take.take();
    if (off < 0) return -1;
    if (c.closed) {
      // a settle in this loop (a filtered or expired message) ran callbacks that closed this
      // member, or deleted its group: what the take claimed goes back
      take.unclaim(off);
      return -1;
    }
    let value: T;
    if (plain) value = ring.values[off & ring.mask] as T;
    else {
      const r = take.valueAt(off);
      if (!r.ok) continue;
      value = r.value;
    }
    if (filter !== undefined && !passes(c, off, value, filter)) continue;
    c.taken = value;
    return off;
  }
}

function passes<T>(c: HandingOut<T>, off: number, value: T, filter: (m: Message<T>) => boolean): boolean {
  const take = c.g.take;
  let ok: boolean;
  try {
    ok = filter(take.message(off, value));
  } catch (e) {
    take.unclaim(off);
    throw e;
  }
  if (!ok) take.skip(off);
  return ok;
}

/**
 * The `values()` drain: hands values to `sink` while it stays open and room allows, settling
 * each once `sink.next` returns, returning it if the sink closed meanwhile. No Delivery is
 * allocated. Returns true when it stopped only because nothing is ready and the topic is open
 * (the face has nothing else to check), false otherwise.
 */
export function drainValues<T>(c: HandingOut<T>, sink: ValueSink<T>): boolean {
  if (c.failure !== undefined) c.raise();
  if (c.plain) {
    if (c.sink !== sink && !c.closed) {
      c.sink = sink;
      c.g.updateDirect();
    }
    const was = c.busy;
    c.busy = true; // the face's listener is attached (it drains on `ready()`), so publishes wake this member: `again`
    try {
      let idle: boolean;
      do {
        c.again = false;
        idle = drainLane(c, sink);
      } while (c.again && !c.closed && !sink.closed);
      return idle;
    } finally {
      c.busy = was;
    }
  }
  return drainGeneral(c, sink);
}

/** The plain `values()` drain: the lane while caught up, `takeRaw` otherwise. */
function drainLane<T>(c: HandingOut<T>, sink: ValueSink<T>): boolean {
  const g = c.g;
  const take = g.take;
  const ring = g.host.ring;
  while (!c.closed && !sink.closed && c.held < c.prefetch) {
    const lane = laneOffset(g);
    if (lane >= 0) {
      // caught up: the message needs no slot state while the downstream holds it
      try {
        sink.next(ring.values[lane & ring.mask] as T);
      } catch (e) {
        laneDone(g, lane, false);
        throw e;
      }
      laneDone(g, lane, !sink.closed && !c.closed);
      continue;
    }
    if (lane === -1) {
      if (refilled(c)) continue;
      return !g.host.closed;
    }
    const off = take.takeRaw(c);
    if (off === -1) {
      if (refilled(c)) continue;
      return !g.host.closed;
    }
    if (off === -2) break; // redeliveries or TTL: the general path below
    const gen = take.rawGen;
    sink.next(ring.values[off & ring.mask] as T); // re-read: a re-entrant publish may grow the ring
    g.settle.settleRaw(off, gen, !sink.closed);
  }
  return drainGeneral(c, sink);
}

/** The general `values()` drain: redeliveries, TTL, a codec, a filter, `ack: 'auto'`. */
function drainGeneral<T>(c: HandingOut<T>, sink: ValueSink<T>): boolean {
  const g = c.g;
  while (!c.closed && !sink.closed && c.held < c.prefetch) {
    const off = takeGeneral(c);
    if (off < 0) {
      if (refilled(c)) continue;
      return !g.host.closed;
    }
    const value = c.taken as T;
    c.taken = undefined;
    if (c.auto) {
      g.take.deliver(c, off, true, false, value);
      sink.next(value);
      continue;
    }
    const gen = g.take.deliverRaw(c, off);
    sink.next(value);
    g.settle.settleRaw(off, gen, !sink.closed);
  }
  return false;
}
