/**
 * The key under which Node's `util.inspect` (and so `console.log`) looks for an object's own
 * formatter. A registered symbol, not an import of `node:util`: the core also runs in browsers.
 */
export const inspectCustom: unique symbol = Symbol.for('nodejs.util.inspect.custom') as never;

/** The `inspect` Node passes to a custom formatter as its third argument. */
export type Inspect = (value: unknown, options?: object) => string;

/**
 * `Name { field: value, … }` for `util.inspect`: the class name and the fields a reader needs,
 * instead of the engine objects behind them. `depth` is how many more levels Node would show
 * (below 0: `[Name]`), `options` and `inspect` are what Node passed.
 */
export function inspectFields(name: string, fields: object, depth: number, options: object, inspect: Inspect | undefined): string {
  if (depth < 0) return `[${name}]`;
  if (inspect === undefined) return `${name} ${JSON.stringify(fields)}`;
  return `${name} ${inspect(fields, { ...options, depth })}`;
}
