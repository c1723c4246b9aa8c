import type { OverflowPolicy } from '../../types.js';

/** What an overflow strategy may do to its topic. */
export interface OverflowHost {
  /** Current capacity (may differ from the configured one under `grow`). */
  readonly capacity: number;
  /** Messages still needed by a gating group. */
  readonly needed: number;
  /** Evicts the oldest message although a group still needs it (groups count it as missed). */
  dropOldest(): void;
  /** Sets the current capacity. */
  setCapacity(capacity: number): void;
}

/**
 * One overflow policy. `onFull` runs when the ring is full and its oldest message is still
 * needed; it returns true when it made room. `waits` says whether `publish()` queues the
 * caller (block) instead of failing when no room can be made.
 */
export interface OverflowStrategy {
  readonly name: OverflowPolicy;
  readonly waits: boolean;
  onFull(host: OverflowHost): boolean;
  /** Called when messages leave; a chance to shrink. */
  onRelease(host: OverflowHost): void;
}

const noop = (): void => {};

/** `publish()` waits until room is made; nothing is ever lost. */
export const blockStrategy: OverflowStrategy = { name: 'block', waits: true, onFull: () => false, onRelease: noop };

/** `publish()` rejects with `TopicFullError`. */
export const rejectStrategy: OverflowStrategy = { name: 'reject', waits: false, onFull: () => false, onRelease: noop };

/** The oldest message is evicted anyway; groups behind it count it as missed. */
export const dropOldestStrategy: OverflowStrategy = {
  name: 'drop-oldest',
  waits: false,
  onFull(host) {
    host.dropOldest();
    return true;
  },
  onRelease: noop,
};

/** Grows capacity by `factor` up to `max`, then rejects; shrinks back when use falls under `threshold`. */
export function growStrategy(base: number, max: number, factor: number, threshold: number): OverflowStrategy {
  return {
    name: 'grow',
    waits: false,
    onFull(host) {
      if (host.capacity >= max) return false;
      host.setCapacity(Math.min(max, Math.max(host.capacity + 1, Math.ceil(host.capacity * factor))));
      return true;
    },
    onRelease(host) {
      let capacity = host.capacity;
      if (capacity <= base) return;
      const needed = host.needed;
      while (capacity > base && needed < capacity * threshold) {
        const smaller = Math.max(base, Math.floor(capacity / factor));
        if (smaller < needed) break; // never below what the groups still need
        capacity = smaller;
      }
      if (capacity !== host.capacity) host.setCapacity(capacity);
    },
  };
}

/** Picks the strategy object for a policy name. */
export function strategyFor(policy: OverflowPolicy, base: number, max: number, factor: number, threshold: number): OverflowStrategy {
  switch (policy) {
    case 'block':
      return blockStrategy;
    case 'reject':
      return rejectStrategy;
    case 'drop-oldest':
      return dropOldestStrategy;
    case 'grow':
      return growStrategy(base, max, factor, threshold);
  }
}
