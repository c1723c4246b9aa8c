import type { Headers } from '../../types.js';

/** The shared empty headers object: no allocation for messages published without headers. */
export const EMPTY_HEADERS: Headers = Object.freeze({});

/** Smallest power of two ≥ n (n ≥ 1). */
export function pow2AtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * The topic log: a power-of-two ring of struct-of-arrays slots addressed by monotonic
 * offsets (`slot = offset & mask`). Retained offsets are `[head, tail)`; an expired message
 * in the middle is a tombstone (`live = 0`) until the head passes it.
 */
export class Ring<T> {
  size = 0; // live messages in [head, tail)
  head = 0;
  tail = 0;
  mask: number;
  values: (T | undefined)[];
  keys: (string | undefined)[];
  headers: Headers[];
  stamps: Float64Array;
  expires: Float64Array;
  live: Uint8Array;
  /** Some message was ever stored with a key or headers: until then, slots need no clearing of them. */
  decorated = false;

  constructor(slots: number) {
    this.mask = slots - 1;
    this.values = new Array(slots).fill(undefined);
    this.keys = new Array(slots).fill(undefined);
    this.headers = new Array(slots).fill(EMPTY_HEADERS);
    this.stamps = new Float64Array(slots);
    this.expires = new Float64Array(slots);
    this.live = new Uint8Array(slots);
  }

  get slots(): number {
    return this.mask + 1;
  }

  /** `tail - head`: slots in use, tombstones included. */
  get span(): number {
    return this.tail - this.head;
  }

  isLive(offset: number): boolean {
    return offset >= this.head && offset < this.tail && this.live[offset & this.mask] === 1;
  }

  /** Appends; the caller has made sure `span < slots`. Returns the offset. (hot/append-lean.ts writes this and `overwrite` inline for a plain message: keep them in step.) */
  append(value: T, key: string | undefined, headers: Headers, stamp: number, expires: number): number {
    const offset = this.tail++;
    const i = offset & this.mask;
    this.values[i] = value;
    if (key !== undefined || headers !== EMPTY_HEADERS) this.decorated = true;
    if (this.decorated) {
      this.keys[i] = key;
      this.headers[i] = headers;
    }
    this.stamps[i] = stamp;
    if (expires !== Infinity) this.expires[i] = expires; // only read for offsets in the TTL heap
    this.live[i] = 1;
    this.size++;
    return offset;
  }

  /** Clears the key and headers of slot `i`, about to be reused (a decorated ring: an older message there may have had them). */
  undecorate(i: number): void {
    if (this.keys[i] !== undefined) this.keys[i] = undefined;
    if (this.headers[i] !== EMPTY_HEADERS) this.headers[i] = EMPTY_HEADERS;
  }

  /**
   * A full ring with no tombstones, whose oldest message nobody needs: the new message takes the
   * oldest one's slot (head and tail share it), in one pass. Returns the offset.
   */
  overwrite(value: T, key: string | undefined, headers: Headers, stamp: number): number {
    const offset = this.tail++;
    this.head++;
    const i = offset & this.mask;
    this.values[i] = value;
    // most messages have no key and no headers: skip the (write-barriered) stores when unchanged
    if (key !== undefined || headers !== EMPTY_HEADERS) this.decorated = true;
    if (this.decorated) {
      if (this.keys[i] !== key) this.keys[i] = key;
      if (this.headers[i] !== headers) this.headers[i] = headers;
    }
    this.stamps[i] = stamp;
    return offset;
  }

  /**
   * Appends `count` values from `list[from]` with no key, no headers, no TTL and one stamp. When
   * `overwrite`, the run takes the oldest slots (a full ring whose oldest `count` messages nobody
   * needs: head moves with tail); otherwise the caller has made sure they fit. Returns the first offset.
   */
  appendRun(list: readonly T[], from: number, count: number, stamp: number, overwrite: boolean): number {
    const first = this.tail;
    const mask = this.mask;
    const { values, keys, headers, stamps, live } = this;
    if (this.decorated) {
      for (let k = 0; k < count; k++) {
        const i = (first + k) & mask;
        if (keys[i] !== undefined) keys[i] = undefined;
        if (headers[i] !== EMPTY_HEADERS) headers[i] = EMPTY_HEADERS;
      }
    }
    for (let k = 0; k < count; k++) {
      const i = (first + k) & mask;
      values[i] = list[from + k];
      stamps[i] = stamp;
      live[i] = 1;
    }
    this.tail = first + count;
    if (overwrite) this.head += count;
    else this.size += count;
    return first;
  }

  /** Removes the head message (live or not) and any tombstones after it. */
  evictHead(): void {
    if (this.head === this.tail) return;
    this.clear(this.head & this.mask);
    this.head++;
    this.skipTombstones();
  }

  /** Marks a live message as gone (expired); releases its value. */
  tomb(offset: number): void {
    const i = offset & this.mask;
    this.clear(i);
    if (offset === this.head) {
      this.head++;
      this.skipTombstones();
    }
  }

  private clear(i: number): void {
    if (this.live[i] === 1) {
      this.live[i] = 0;
      this.size--;
    }
    this.values[i] = undefined;
    this.keys[i] = undefined;
    this.headers[i] = EMPTY_HEADERS;
  }

  private skipTombstones(): void {
    while (this.head < this.tail && this.live[this.head & this.mask] === 0) this.head++;
  }

  /** Starts an empty ring at `offset` (recovery: offsets never go back). */
  startAt(offset: number): void {
    this.head = offset;
    this.tail = offset;
  }

  /** Recovery: a gap in the stored offsets becomes tombstones up to `offset`. */
  skipTo(offset: number): void {
    if (this.head === this.tail) {
      this.startAt(offset);
      return;
    }
    while (this.tail < offset) {
      const i = this.tail++ & this.mask;
      this.live[i] = 0;
      this.values[i] = undefined;
    }
  }

  /** Drops every message (used when a topic is deleted). */
  reset(): void {
    while (this.head < this.tail) this.evictHead();
  }

  /** Re-lays the retained window into `slots` slots (a power of two ≥ span). */
  resize(slots: number): void {
    const mask = slots - 1;
    const values = new Array<T | undefined>(slots).fill(undefined);
    const keys = new Array<string | undefined>(slots).fill(undefined);
    const headers = new Array<Headers>(slots).fill(EMPTY_HEADERS);
    const stamps = new Float64Array(slots);
    const expires = new Float64Array(slots);
    const live = new Uint8Array(slots);
    for (let o = this.head; o < this.tail; o++) {
      const a = o & this.mask;
      const b = o & mask;
      values[b] = this.values[a];
      keys[b] = this.keys[a];
      headers[b] = this.headers[a];
      stamps[b] = this.stamps[a];
      expires[b] = this.expires[a];
      live[b] = this.live[a];
    }
    this.mask = mask;
    this.values = values;
    this.keys = keys;
    this.headers = headers;
    this.stamps = stamps;
    this.expires = expires;
    this.live = live;
  }
}
