import type { GroupEvent, StoredGroup } from '../../storage.js';

/** A durable group's position as the store keeps it: one record a group. */
export interface GroupState {
  committed: number;
  /** Offsets at or above `committed` already settled. */
  settled: Set<number>;
  /** Delivery counts of unsettled offsets that were delivered. */
  deliveries: Map<number, number>;
}

/** Moves `committed` past offsets settled in a row. */
function advance(g: GroupState): void {
  while (g.settled.delete(g.committed)) {
    g.deliveries.delete(g.committed);
    g.committed++;
  }
}

/**
 * Applies one group event to the groups' states; returns the name of the group whose record
 * changed (to be written, or deleted when no longer in `groups`), or undefined for an event
 * about a group the store does not hold.
 */
export function applyGroupEvent(groups: Map<string, GroupState>, e: GroupEvent): string | undefined {
  if (e.kind === 'create') {
    groups.set(e.group, { committed: e.offset, settled: new Set(), deliveries: new Map() });
    return e.group;
  }
  if (e.kind === 'delete') return groups.delete(e.group) ? e.group : undefined;
  const g = groups.get(e.group);
  if (g === undefined) return undefined;
  if (e.kind === 'deliver') {
    if (e.offset >= g.committed) g.deliveries.set(e.offset, e.count);
  } else if (e.kind === 'settle') {
    if (e.offset >= g.committed) g.settled.add(e.offset);
    advance(g);
  } else if (e.kind === 'commit') {
    if (e.offset > g.committed) {
      for (const o of g.deliveries.keys()) if (o < e.offset) g.deliveries.delete(o);
      for (const o of g.settled) if (o < e.offset) g.settled.delete(o);
      g.committed = e.offset;
    }
    advance(g);
  } else {
    g.committed = e.offset;
    g.settled.clear();
    g.deliveries.clear();
  }
  return e.group;
}

/** The recovered form of a group's state. */
export function storedGroup(name: string, g: GroupState): StoredGroup {
  return { name, committed: g.committed, settled: [...g.settled].sort((a, b) => a - b), deliveries: new Map(g.deliveries) };
}
