/** One key's state in a group: the offset holding it (-1: free) and the later offsets of it waiting, lowest first. */
interface KeyState {
  held: number;
  readonly waiting: number[];
}

/** How many free keys the map keeps before a sweep removes them (see `KeyOrder.sweep`). */
const KEEP_FREE = 1024;

/**
 * A group's keys in flight on a topic with `ordering: 'key'`: for each key, the one message of
 * it that is unsettled in the group (held by a member, or waiting for redelivery), and the later
 * messages of that key the group's cursor passed meanwhile, in offset order.
 *
 * A key that comes free keeps its entry (no Map delete and insert per message, which costs more
 * than the rest of a delivery) until more than {@link KEEP_FREE} free entries outnumber twice the
 * held ones; then a sweep removes every free entry. So the map stays small: the keys in flight,
 * and a bounded number of recently freed ones.
 *
 * The offsets holding a key are found by a table indexed by offset (`offset & mask`, checked
 * against the offset stored there), grown when two held offsets meet in one slot: held offsets
 * lie within the ring's span, so the table stays within it too.
 */
export class KeyOrder {
  private readonly keys = new Map<string, KeyState>();
  /** Entries of `keys` whose key is free. */
  private free = 0;
  /** A sweep is considered once `free` passes this. */
  private sweepAt = KEEP_FREE;
  /** Slot → the offset holding a key there (-1: none), and its key's state. */
  private offs = new Float64Array(64).fill(-1);
  private states: (KeyState | undefined)[] = new Array<KeyState | undefined>(64).fill(undefined);
  private mask = 63;

  /** True when `off` (of `key`) may go out now: the key is free (it is then held by `off`) or already held by `off`. */
  claim(key: string, off: number): boolean {
    const s = this.keys.get(key);
    if (s !== undefined && s.held === -1) {
      this.free--;
      s.held = off;
      this.hold(s, off);
      return true;
    }
    return s === undefined ? this.add(key, off) : s.held === off;
  }

  /** A key seen for the first time (or again after a sweep), held by `off` from now. */
  private add(key: string, off: number): true {
    const s: KeyState = { held: off, waiting: [] };
    this.keys.set(key, s);
    this.hold(s, off);
    return true;
  }

  /** `off` of `key` waits for the message of its key in flight (called after `claim` refused it). */
  wait(key: string, off: number): void {
    const q = (this.keys.get(key) as KeyState).waiting;
    if (q.length === 0 || q[q.length - 1] < off) q.push(off);
    else {
      // re-queued out of order (a redelivery that found its key held): keep offset order, once
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
    const i = off & this.mask;
    if (this.offs[i] !== off) return -1;
    const s = this.states[i] as KeyState;
    this.offs[i] = -1;
    this.states[i] = undefined;
    const q = s.waiting;
    while (q.length > 0) {
      const next = q.shift() as number;
      if (!valid(next)) continue;
      s.held = next;
      this.hold(s, next);
      return next;
    }
    s.held = -1;
    if (++this.free > this.sweepAt) this.sweep();
    return -1;
  }

  /** Offsets holding a key now. */
  held(): number[] {
    const out: number[] = [];
    for (const s of this.keys.values()) if (s.held !== -1) out.push(s.held);
    return out;
  }

  clear(): void {
    this.keys.clear();
    this.free = 0;
    this.sweepAt = KEEP_FREE;
    this.offs.fill(-1);
    this.states.fill(undefined);
  }

  /** Records that `off` holds the key of `s`. */
  private hold(s: KeyState, off: number): void {
    let i = off & this.mask;
    if (this.offs[i] !== -1 && this.offs[i] !== off) i = this.room(off);
    this.offs[i] = off;
    this.states[i] = s;
  }

  /** The table slot for `off` after growing the table until no other held offset is in it. */
  private room(off: number): number {
    let i = off & this.mask;
    while (this.offs[i] !== -1 && this.offs[i] !== off) {
      this.grow();
      i = off & this.mask;
    }
    return i;
  }

  /** Doubles the offset table (two held offsets met in one slot). */
  private grow(): void {
    const offs = this.offs;
    const states = this.states;
    const size = offs.length * 2;
    this.offs = new Float64Array(size).fill(-1);
    this.states = new Array<KeyState | undefined>(size).fill(undefined);
    this.mask = size - 1;
    for (let j = 0; j < offs.length; j++) {
      if (offs[j] === -1) continue;
      const k = offs[j] & this.mask;
      this.offs[k] = offs[j];
      this.states[k] = states[j];
    }
  }

  /** More keys came free than {@link sweepAt}: removes the free entries if they outnumber twice the held ones. */
  private sweep(): void {
    const held = this.keys.size - this.free;
    if (this.free > 2 * held) {
      for (const [key, s] of this.keys) if (s.held === -1) this.keys.delete(key);
      this.free = 0;
    }
    this.sweepAt = Math.max(KEEP_FREE, 2 * held);
  }
}
