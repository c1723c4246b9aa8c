/**
 * A binary min-heap of (key, value) number pairs in two parallel arrays: no allocation per
 * entry once the arrays have grown. Ties on key are broken by value, so a heap keyed by
 * offset (value = offset) yields lowest offset first.
 */
export class NumHeap {
  private keys: number[] = [];
  private vals: number[] = [];
  size = 0;

  push(key: number, val: number): void {
    let i = this.size++;
    const keys = this.keys;
    const vals = this.vals;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pk = keys[p];
      if (pk < key || (pk === key && vals[p] <= val)) break;
      keys[i] = pk;
      vals[i] = vals[p];
      i = p;
    }
    keys[i] = key;
    vals[i] = val;
  }

  /** Key of the smallest entry; `Infinity` when empty. */
  peekKey(): number {
    return this.size === 0 ? Infinity : this.keys[0];
  }

  /** Value of the smallest entry; `-1` when empty. */
  peekVal(): number {
    return this.size === 0 ? -1 : this.vals[0];
  }

  /** Removes the smallest entry and returns its value (`-1` when empty). */
  pop(): number {
    if (this.size === 0) return -1;
    const keys = this.keys;
    const vals = this.vals;
    const top = vals[0];
    const n = --this.size;
    if (n === 0 && keys.length > 1024) {
      // emptied after a large backlog (a million delayed messages, say): give the arrays back
      this.keys = [];
      this.vals = [];
    } else if (n > 0) {
      const key = keys[n];
      const val = vals[n];
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        if (r < n && (keys[r] < keys[l] || (keys[r] === keys[l] && vals[r] < vals[l]))) c = r;
        if (keys[c] > key || (keys[c] === key && vals[c] >= val)) break;
        keys[i] = keys[c];
        vals[i] = vals[c];
        i = c;
      }
      keys[i] = key;
      vals[i] = val;
    }
    return top;
  }

  clear(): void {
    this.size = 0;
    if (this.keys.length > 1024) {
      this.keys = [];
      this.vals = [];
    }
  }
}
