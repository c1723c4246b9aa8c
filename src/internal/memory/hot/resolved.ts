/*
 * The hot room (docs/internals.md, "The hot room"). Code here is shaped for V8's optimizing
 * compiler rather than for reading: twins of a claim written out inline, fields born with a
 * representation, reads that exist for a map check. Each trick states the rule it serves and
 * how to see it (`npm run bench:ir`). No other room of src/internal holds such tricks: code
 * elsewhere calls what is here and stays plain.
 */
import type { DeliveryImpl } from '../group/delivery.js';

/**
 * A promise fulfilled with `d`, for `recv()`. The read of `d.offset` is for its map check:
 * with `d`'s map known, V8 proves no `then` on its chain and fulfills the promise directly,
 * where a delivery of unknown map (a take that merges its paths) has `then` looked up at run
 * time on every recv. Nothing on DeliveryImpl's chain defines `then` (see delivery.ts).
 */
export function resolved<T>(d: DeliveryImpl<T>): Promise<DeliveryImpl<T>> {
  void d.offset;
  return Promise.resolve(d);
}
