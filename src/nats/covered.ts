/** How many intervals a {@link Covered} keeps (the oldest are forgotten first). */
const KEPT = 256;

/**
 * A set of stream sequences kept as disjoint intervals `(from, to]`, sorted: what has been counted
 * once, so that it is not counted again. Only the latest {@link KEPT} intervals are kept.
 */
export class Covered {
  private readonly spans: [number, number][] = [];

  /** Adds `(from, to]`; how many of its sequences were not covered yet. */
  add(from: number, to: number): number {
    if (to <= from) return 0;
    let fresh = to - from;
    let lo = from;
    let hi = to;
    const kept: [number, number][] = [];
    for (const [a, b] of this.spans) {
      if (b < lo || a > hi) {
        kept.push([a, b]);
        continue;
      }
      fresh -= Math.max(0, Math.min(b, to) - Math.max(a, from)); // the overlap with what was asked
      lo = Math.min(lo, a);
      hi = Math.max(hi, b);
    }
    kept.push([lo, hi]);
    kept.sort((x, y) => x[0] - y[0]);
    this.spans.splice(0, this.spans.length, ...kept.slice(-KEPT));
    return Math.max(0, fresh);
  }

  has(seq: number): boolean {
    return this.spans.some(([a, b]) => seq > a && seq <= b);
  }
}
