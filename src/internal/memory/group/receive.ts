import type { SchedulerLike } from 'rxjs';
import type { Delivery } from '../../../types.js';
import type { WaitList } from '../../faces/wait-list.js';
import { duration, integer, options as checkOptions, signal as checkSignal } from '../../validate.js';
import { type FreshGroup, takeBatch } from '../hot/fresh.js';
import { resolved } from '../hot/resolved.js';
import type { DeliveryImpl } from './delivery.js';
import type { GroupMember } from './group-types.js';

/** What the waiting receives read and call on their member (`ConsumerImpl`). */
export interface Receiving<T> extends GroupMember<T> {
  readonly g: FreshGroup<T>;
  readonly waiters: WaitList<DeliveryImpl<T>>;
  readonly scheduler: SchedulerLike;
  readonly aborted: boolean;
  readonly abortReason: unknown;
  readonly done: boolean;
  /** No filter, no `ack: 'auto'`, no codec, not tracked: a batch may be claimed in one pass. */
  readonly batchable: boolean;
  tryRecv(): DeliveryImpl<T> | undefined;
}

/**
 * The waiting receives of a member: `recv` past its fast path (which `ConsumerImpl.recv` keeps
 * inline), `recvTimeout`, `recvBatch`. Each validates its arguments into a rejected promise
 * (a promise-returning method never throws), takes what is ready now, and otherwise waits in the
 * member's wait list until a wake serves it, its signal aborts or its time is up.
 */
export function recvWaiting<T>(c: Receiving<T>, options: { signal?: AbortSignal } | undefined): Promise<Delivery<T> | undefined> {
  let signal: AbortSignal | undefined;
  try {
    signal = waitSignal(options);
  } catch (e) {
    return Promise.reject(e);
  }
  return wait(c, signal, Infinity);
}

export function recvTimeout<T>(c: Receiving<T>, ms: number, options: { signal?: AbortSignal } | undefined): Promise<Delivery<T> | undefined> {
  let signal: AbortSignal | undefined;
  try {
    duration('ms', ms, 0, true);
    signal = waitSignal(options);
  } catch (e) {
    return Promise.reject(e);
  }
  return wait(c, signal, ms);
}

export function recvBatch<T>(c: Receiving<T>, max: number, options: { signal?: AbortSignal } | undefined): Promise<Delivery<T>[]> {
  let signal: AbortSignal | undefined;
  try {
    integer('max', max, 1, 2 ** 20);
    signal = waitSignal(options);
  } catch (e) {
    return Promise.reject(e);
  }
  if (c.waiters.length === 0 && !c.aborted && signal?.aborted !== true) {
    // a batch that is ready now is handed over without waiting on a promise of its first delivery
    let first: DeliveryImpl<T> | undefined;
    try {
      first = c.tryRecv();
    } catch (e) {
      return Promise.reject(e);
    }
    if (first !== undefined) return Promise.resolve(fillBatch(c, first, max));
  }
  return wait(c, signal, Infinity).then((first) => (first === undefined ? [] : fillBatch(c, first, max)));
}

/** The rest of a batch after its first delivery: what is ready now, up to `max` in all. */
function fillBatch<T>(c: Receiving<T>, first: Delivery<T>, max: number): Delivery<T>[] {
  let out: Delivery<T>[];
  if (c.batchable && !c.closed) {
    // a batch moves as a batch: the rest of it claimed in one pass (closed meanwhile: nothing more)
    const room = Math.min(max - 1, c.prefetch - c.held, c.g.backlog());
    out = new Array<Delivery<T>>(1 + room); // filled by index: no growth copies per batch
    out[0] = first;
    const k = takeBatch(c.g, c, room, out as DeliveryImpl<T>[], 1);
    if (k < room) out.length = 1 + k;
  } else out = [first];
  try {
    while (out.length < max) {
      const d = c.tryRecv();
      if (d === undefined) break;
      out.push(d);
    }
  } catch {
    // a filter threw: its message went back, and the next take runs into it again; what this
    // batch already claimed is handed over instead of being held by nobody
  }
  return out;
}

/** Takes what is ready now, or waits for it (`ms`: Infinity, or resolves `undefined` after it). */
function wait<T>(c: Receiving<T>, signal: AbortSignal | undefined, ms: number): Promise<Delivery<T> | undefined> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (c.aborted) return Promise.reject(c.abortReason);
  if (c.waiters.length === 0) {
    let d: DeliveryImpl<T> | undefined;
    try {
      d = c.tryRecv();
    } catch (e) {
      return Promise.reject(e);
    }
    if (d !== undefined) return resolved(d);
    if (c.done || ms === 0) return Promise.resolve(undefined);
  }
  c.g.mayWake = true; // a publish must wake this member now
  return c.waiters.add(signal, ms, c.scheduler);
}

const WAIT_KEYS = ['signal'] as const;

/** The `signal` of `recv`/`recvTimeout`/`recvBatch` options (ConfigError for anything else). */
function waitSignal(options: { signal?: AbortSignal } | undefined): AbortSignal | undefined {
  if (options === undefined) return undefined;
  return checkSignal('signal', checkOptions<{ signal?: AbortSignal }>('recv options', options, WAIT_KEYS).signal);
}
