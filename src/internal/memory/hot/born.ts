/*
 * The hot room (docs/internals.md, "The hot room"). Code here is shaped for V8's optimizing
 * compiler rather than for reading: twins of a claim written out inline, fields born with a
 * representation, reads that exist for a map check. Each trick states the rule it serves and
 * how to see it (`npm run bench:ir`). No other room of src/internal holds such tricks: code
 * elsewhere calls what is here and stays plain.
 */

/**
 * Makes `fields` of `o` mutable before any code is optimized. V8 takes a
 * field that only the constructor has written for a constant (per hidden class), and optimized
 * code that read it is thrown away when it first changes (`--trace-deopt`: "code dependencies"):
 * a flag that flips once in an object's life (`closed`, `lean`) would throw away the hot code of
 * every object of its class the first time one flips. Written with another value and back (an
 * array field another array, an object field `false`), it is mutable from the start.
 */
export function bornMutable(o: object, ...fields: string[]): void {
  const r = o as Record<string, unknown>;
  for (const f of fields) {
    const v = r[f];
    r[f] = Array.isArray(v) ? [] : !v;
    r[f] = v;
  }
}

/**
 * Makes the number `fields` of `o` doubles from the start: a counter that starts as a small
 * integer is stored as one, and the day it passes 2^31 (or takes a fraction) its field changes
 * representation and the code that read it is thrown away.
 */
export function bornDouble(o: object, ...fields: string[]): void {
  const r = o as Record<string, unknown>;
  for (const f of fields) {
    const v = r[f];
    r[f] = 0.5;
    r[f] = v;
  }
}
