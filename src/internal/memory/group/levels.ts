import { NumHeap } from '../heap.js';

/**
 * A group's first deliveries waiting by priority level (a topic with `priorities` > 1): one
 * offset-ordered heap per level, and the fair-queuing rule. Entries may be stale (settled by a
 * commit, a clamp or a drop meanwhile): the group checks each one it pops.
 *
 * Fair queuing (`maxConsecutive` finite): `run[l]` counts the deliveries from level l since a
 * lower level last got one. The highest waiting level goes first unless its run has reached
 * `maxConsecutive` while a lower level waits; then the next lower waiting level is asked the
 * same, and so on down. A delivery from level l starts the runs of every level above l again.
 * So a waiting message of any level is handed out within a bounded number of deliveries:
 * starvation is impossible.
 */
export class LevelQueues {
  private readonly heaps: NumHeap[];
  private readonly run: Float64Array;
  /** Entries in every heap (stale ones included). */
  queued = 0;

  constructor(
    readonly levels: number,
    private readonly maxConsecutive: number,
  ) {
    this.heaps = Array.from({ length: levels }, () => new NumHeap());
    this.run = new Float64Array(levels);
  }

  push(level: number, off: number): void {
    this.heaps[level].push(off, off);
    this.queued++;
  }

  /** The level to hand out from next, or -1 when every heap is empty. */
  choose(): number {
    const heaps = this.heaps;
    let l = this.levels - 1;
    while (l >= 0 && heaps[l].size === 0) l--;
    if (l < 0 || this.maxConsecutive === Infinity) return l;
    for (;;) {
      if (this.run[l] < this.maxConsecutive) return l;
      let lower = l - 1;
      while (lower >= 0 && heaps[lower].size === 0) lower--;
      if (lower < 0) return l; // nothing lower waits: no one to be fair to
      l = lower;
    }
  }

  /** Removes and returns the lowest offset waiting at `level`. */
  pop(level: number): number {
    this.queued--;
    return this.heaps[level].pop();
  }

  /** A message of `level` was handed out (a first delivery). */
  delivered(level: number): void {
    if (this.maxConsecutive === Infinity) return;
    this.run[level]++;
    for (let l = level + 1; l < this.levels; l++) this.run[l] = 0;
  }

  clear(): void {
    for (const h of this.heaps) h.clear();
    this.queued = 0;
    this.run.fill(0);
  }
}
