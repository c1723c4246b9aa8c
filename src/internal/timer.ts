import { type SchedulerLike, Subscription } from 'rxjs';

/*
 * Process lifetime (DESIGN.md §2 "Time"): a timer keeps a Node process alive exactly while someone
 * waits for what it brings, as `setTimeout` and RxJS `interval` do; background work never does.
 *
 * - A timer that is itself what someone waits for (`recvTimeout`'s timeout, a subscribed `stats$`)
 *   is held, as `setTimeout` is: `scheduleHeld`.
 * - Every other timer is un-ref'd (`scheduleUnref`): TTL expiry and the clock's cache never hold
 *   the process. A group's redelivery timers (ack-timeout sweeps, nack delays) hold it only while
 *   a member waits and the timer can bring it something, which changes with every delivery and
 *   settle. Rather than tracking that as it changes, the group asks when it matters: while it has
 *   such a timer pending it is watched (`watch`), and when the process is about to exit (its event
 *   loop ran dry: Node's `beforeExit`), the watched timer due first among those someone waits for
 *   is ref'd. The process then lives until that timer runs, and the question is asked again the
 *   next time the loop runs dry. Nothing is done while the process runs.
 *
 * Holding is done on the Node timer under an RxJS subscription, feature-detected (`ref`/`unref` on
 * the handle `setInterval` returned): in a browser, or on a virtual-time scheduler, it is a no-op.
 */

/** Schedules `work` on `scheduler` after `delayMs`; it never keeps a Node process alive on its own. */
export function scheduleUnref(scheduler: SchedulerLike, delayMs: number, work: () => void): Subscription {
  return schedule(scheduler, delayMs, work, false);
}

/** Schedules `work` on `scheduler` after `delayMs`; like `setTimeout`, it keeps a Node process alive until it runs or is unsubscribed. */
export function scheduleHeld(scheduler: SchedulerLike, delayMs: number, work: () => void): Subscription {
  return schedule(scheduler, delayMs, work, true);
}

function schedule(scheduler: SchedulerLike, delayMs: number, work: () => void, held: boolean): Subscription {
  if (delayMs > MAX_DELAY) return new LongTimer(scheduler, delayMs, work, held);
  const sub = scheduler.schedule(work, Math.max(0, delayMs));
  if (!held) nodeTimer(sub)?.unref();
  return sub;
}

/** Node and browsers run a timer longer than 2^31 - 1 ms at once: hop in steps below that. */
const MAX_DELAY = 2 ** 31 - 1;

class LongTimer extends Subscription {
  private readonly at: number;
  private inner: Subscription;
  private readonly hop = (): void => {
    const left = this.at - this.scheduler.now();
    if (left <= 0) {
      this.unsubscribe();
      this.work();
      return;
    }
    this.inner = schedule(this.scheduler, Math.min(left, MAX_DELAY), this.hop, this.held);
  };

  constructor(
    private readonly scheduler: SchedulerLike,
    delayMs: number,
    private readonly work: () => void,
    private readonly held: boolean,
  ) {
    super();
    this.at = scheduler.now() + delayMs;
    this.inner = schedule(scheduler, MAX_DELAY, this.hop, held);
    this.add(() => this.inner.unsubscribe());
  }

  /** The Node timer of the current hop (the next hop is armed as the timer was, held or not). */
  get timer(): NodeTimer | undefined {
    return nodeTimer(this.inner);
  }
}

interface NodeTimer {
  ref(): unknown;
  unref(): unknown;
}

/** The Node timer under an RxJS async action (its `id`), when there is one. */
function nodeTimer(sub: Subscription): NodeTimer | undefined {
  if (sub instanceof LongTimer) return sub.timer;
  const id = (sub as unknown as { id?: unknown }).id;
  return id !== null && typeof id === 'object' && typeof (id as NodeTimer).ref === 'function' && typeof (id as NodeTimer).unref === 'function' ? (id as NodeTimer) : undefined;
}

/** A timer someone waits for: how long until it runs, and its subscription (from `scheduleUnref`). */
export interface WaitedTimer {
  readonly inMs: number;
  readonly timer: Subscription;
}

/** Owns un-ref'd timers that hold the process while someone waits for them (a consumer group). */
export interface Waitable {
  /** Its pending timer due first among those someone waits for, or undefined when none is. */
  waited(): WaitedTimer | undefined;
}

const watched = new Set<Waitable>();
let listening = false;

/** `owner` has `timer` pending: asked about it when the process is about to exit. A no-op where there is no Node timer under it. */
export function watch(owner: Waitable, timer: Subscription): void {
  if (nodeTimer(timer) === undefined) return;
  if (!listening) listen();
  watched.add(owner);
}

/** `owner` has no timer pending any more. */
export function unwatch(owner: Waitable): void {
  watched.delete(owner);
}

function listen(): void {
  listening = true;
  const p = (globalThis as { process?: { on?: (event: string, listener: () => void) => unknown } }).process;
  if (typeof p?.on === 'function') p.on('beforeExit', holdFirstWaited);
}

/** The event loop ran dry: ref the waited-for timer due first, if any, until it runs (a long timer: its current hop). */
function holdFirstWaited(): void {
  let first: WaitedTimer | undefined;
  for (const owner of watched) {
    const w = owner.waited();
    if (w !== undefined && (first === undefined || w.inMs < first.inMs)) first = w;
  }
  if (first !== undefined) nodeTimer(first.timer)?.ref();
}

/**
 * One re-armable deadline. `arm(at)` makes sure `fire` runs no later than `at` (scheduler time);
 * arming for a later time than the one pending is a no-op. Allocates only when it (re)schedules.
 * Its timer is un-ref'd.
 */
export class Deadline {
  private sub: Subscription | null = null;
  private at = Infinity;
  private readonly run = (): void => {
    this.sub = null;
    this.at = Infinity;
    this.fire();
  };

  constructor(
    private readonly scheduler: SchedulerLike,
    private readonly fire: () => void,
  ) {}

  /** The pending timer, or null. */
  get timer(): Subscription | null {
    return this.sub;
  }

  /** When the pending timer runs (scheduler time); Infinity when none is pending. */
  get due(): number {
    return this.at;
  }

  arm(at: number): void {
    if (at >= this.at || at === Infinity) return;
    this.cancel();
    this.at = at;
    this.sub = scheduleUnref(this.scheduler, at - this.scheduler.now(), this.run);
  }

  cancel(): void {
    if (this.sub !== null) {
      this.sub.unsubscribe();
      this.sub = null;
    }
    this.at = Infinity;
  }
}
