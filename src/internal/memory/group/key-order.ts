/**
 * A group's keys in flight on a topic with `ordering: 'key'`: for each key, the one message of
 * it that is unsettled in the group (held by a member, or waiting for redelivery), and the later
 * messages of that key the group's cursor passed meanwhile, in offset order. Small: only keys
 * with something unsettled have entries.
 */
export class KeyOrder {
  /** Key → the offset of its message unsettled in the group. */
  private readonly busy = new Map<string, number>();
  /** The same, by offset. */
  private readonly keyOf = new Map<number, string>();
  /** Key → later offsets of that key waiting for it, lowest first. */
  private readonly waiting = new Map<string, number[]>();

  /** True when `off` (of `key`) may go out now: the key is free (it is then held by `off`) or already held by `off`. */
  claim(key: string, off: number): boolean {
    const b = this.busy.get(key);
    if (b === undefined) {
      this.busy.set(key, off);
      this.keyOf.set(off, key);
      return true;
    }
    return b === off;
  }

  /** `off` of `key` waits for the message of its key in flight (offsets arrive in increasing order, or re-queued in order). */
  wait(key: string, off: number): void {
    const q = this.waiting.get(key);
    if (q === undefined) this.waiting.set(key, [off]);
    else if (q.length === 0 || q[q.length - 1] < off) q.push(off);
    else {
      let i = q.length;
      while (i > 0 && q[i - 1] > off) i--;
      if (q[i - 1] !== off) q.splice(i, 0, off);
    }
  }

  /**
   * `off` was settled (or dead-lettered): its key is free. Returns the next waiting offset of the
   * key that `valid` accepts, now holding the key, or -1.
   */
  release(off: number, valid: (off: number) => boolean): number {
    const key = this.keyOf.get(off);
    if (key === undefined) return -1;
    this.keyOf.delete(off);
    this.busy.delete(key);
    const q = this.waiting.get(key);
    if (q === undefined) return -1;
    while (q.length > 0) {
      const next = q.shift() as number;
      if (!valid(next)) continue;
      if (q.length === 0) this.waiting.delete(key);
      this.busy.set(key, next);
      this.keyOf.set(next, key);
      return next;
    }
    this.waiting.delete(key);
    return -1;
  }

  /** Offsets holding a key now. */
  held(): number[] {
    return [...this.keyOf.keys()];
  }

  clear(): void {
    this.busy.clear();
    this.keyOf.clear();
    this.waiting.clear();
  }
}
