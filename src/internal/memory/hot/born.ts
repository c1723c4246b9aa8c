/*
 * The hot room (docs/internals.md, "The hot room"). Code here is shaped for V8's optimizing
 * compiler rather than for reading: twins of a claim written out inline, fields born with a
 * representation, reads that exist for a map check. Each trick states the rule it serves and
 * how to see it (`npm run bench:ir`). No other room of src/internal holds such tricks: code
 * elsewhere calls what is here and stays plain.
 */

/**
 * Born double: each named counter gets a fraction and then 0, in the constructor, so its field
 * is kept as a double (a box V8 updates in place) rather than a small integer (untag, add,
 * overflow check, retag on every change). A field's representation only ever widens, so
 * widening it before any code is optimized fixes it for the object's whole life.
 */
export function bornDouble<O extends object>(o: O, ...fields: (keyof O & string)[]): void {
  const w = o as Record<string, unknown>;
  for (const f of fields) {
    const v = w[f];
    w[f] = 0.5;
    w[f] = v;
  }
}

/**
 * Born mutable: each named field is written twice in the constructor. V8 takes a field that only
 * the constructor wrote for a constant of its hidden class, and throws away the optimized code
 * that read it when it first changes (`--trace-deopt`: "code dependencies"); a field that flips
 * once in an object's life (a boolean) is made mutable before any code is optimized.
 */
export function bornMutable<O extends object>(o: O, ...fields: (keyof O & string)[]): void {
  const w = o as Record<string, boolean>;
  for (const f of fields) {
    const v = w[f];
    w[f] = !v;
    w[f] = v;
  }
}
