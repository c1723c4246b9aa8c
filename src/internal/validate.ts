import { ConfigError } from '../errors.js';

/** Renders a value for an error message: `` `0` (number) ``. */
export function describe(value: unknown): string {
  let shown: string;
  if (typeof value === 'string') shown = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  else if (typeof value === 'bigint') shown = `${value}n`;
  else if (typeof value === 'function') shown = `[function ${value.name || 'anonymous'}]`;
  else if (typeof value === 'symbol') shown = value.toString();
  else if (value === null) shown = 'null';
  else if (typeof value === 'object') shown = brief(value, 2);
  else shown = String(value);
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `\`${shown}\` (${type})`;
}

const SHOWN_MAX = 60;

/**
 * An array or object as a reader would write it, JSON-like and cut at {@link SHOWN_MAX}
 * characters: `["billing","audit"]`, `{"capacity":8}`; an instance of a class by its name
 * (`[AsyncScheduler]`), nested beyond `depth` as `[…]`/`{…}`.
 */
function brief(value: object, depth: number): string {
  let text: string;
  try {
    text = render(value, depth);
  } catch {
    text = '[object]'; // a getter or a proxy that throws: the message must still be made
  }
  return text.length > SHOWN_MAX ? `${text.slice(0, SHOWN_MAX - 1)}…` : text;
}

function render(value: unknown, depth: number): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value !== 'object' || value === null) return String(value);
  if (Array.isArray(value)) {
    if (depth === 0) return value.length === 0 ? '[]' : '[…]';
    const items = value.slice(0, 10).map((x) => render(x, depth - 1));
    if (value.length > 10) items.push(`… ${value.length - 10} more`);
    return `[${items.join(',')}]`;
  }
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto !== null && proto !== Object.prototype) return `[${(value as { constructor?: { name?: string } }).constructor?.name || 'object'}]`;
  const keys = Object.keys(value);
  if (depth === 0) return keys.length === 0 ? '{}' : '{…}';
  return `{${keys.map((k) => `${JSON.stringify(k)}:${render((value as Record<string, unknown>)[k], depth - 1)}`).join(',')}}`;
}

/** Throws `ConfigError`: `` `option` must be <range>, got <value> ``. */
export function fail(option: string, range: string, value: unknown): never {
  throw new ConfigError(option, `\`${option}\` must be ${range}, got ${describe(value)}`);
}

const RANGE_MAX = 2 ** 30;

/** An integer from `min` to `max` (inclusive); `Infinity` allowed when `allowInfinity`. */
export function integer(option: string, value: unknown, min: number, max: number, allowInfinity = false): number {
  if (allowInfinity && value === Infinity) return Infinity;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const top = max === RANGE_MAX ? '2^30' : max === Number.MAX_SAFE_INTEGER ? '2^53 - 1' : String(max);
    fail(option, `an integer from ${min} to ${top}${allowInfinity ? ' or `Infinity`' : ''}`, value);
  }
  return value;
}

/** A duration in ms: a finite number ≥ `min`, or `Infinity` when allowed. */
export function duration(option: string, value: unknown, min: number, allowInfinity: boolean): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || (!allowInfinity && value === Infinity)) {
    fail(option, `a number of milliseconds ${min === 0 ? '≥ 0' : '> 0'}${allowInfinity ? ' or `Infinity`' : ''}`, value);
  }
  if (min > 0 && value === 0) fail(option, `a number of milliseconds > 0${allowInfinity ? ' or `Infinity`' : ''}`, value);
  return value;
}

/** A positive duration (> 0) or Infinity. */
export function positiveDuration(option: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
    fail(option, 'a number of milliseconds > 0 or `Infinity`', value);
  }
  return value;
}

/** A finite number in the open or closed range. */
export function numberIn(option: string, value: unknown, min: number, max: number, range: string, minOpen = false, maxOpen = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (minOpen && value === min) || (maxOpen && value === max)) {
    fail(option, range, value);
  }
  return value;
}

/** One of a fixed set of strings. */
export function oneOf<S extends string>(option: string, value: unknown, allowed: readonly S[]): S {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail(option, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  }
  return value as S;
}

/** The most UTF-8 bytes a topic or group name may take. */
export const NAME_MAX_BYTES = 65_535;
const LONE_SURROGATE = /\p{Cs}/u;

/** Whether a string is well-formed UTF-16 (no lone surrogate): what UTF-8 can carry unchanged. */
export function wellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/**
 * What a non-empty string breaks as a topic or group name, or undefined. Every engine that
 * stores or sends a name carries it as UTF-8, which cannot hold a lone surrogate: such a name
 * would come back as another name, so it is refused on every engine alike.
 */
export function nameProblem(value: string): string | undefined {
  if (!wellFormed(value)) return 'well-formed Unicode (it holds a lone surrogate, which UTF-8 cannot carry)';
  if (value.length > NAME_MAX_BYTES / 3 && utf8Length(value) > NAME_MAX_BYTES) return `at most ${NAME_MAX_BYTES} bytes in UTF-8`;
  return undefined;
}

/** UTF-8 length of a well-formed string (a surrogate pair is 4 bytes). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 2 : 3;
  }
  return n;
}

/** A topic or group name: a non-empty string of well-formed Unicode, at most 65 535 UTF-8 bytes. */
export function name(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) fail(option, 'a non-empty string', value);
  const problem = nameProblem(value);
  if (problem !== undefined) fail(option, problem, value);
  return value;
}

/** An AbortSignal or undefined. */
export function signal(option: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || typeof (value as AbortSignal).aborted !== 'boolean' || typeof (value as AbortSignal).addEventListener !== 'function') {
    fail(option, 'an AbortSignal', value);
  }
  return value as AbortSignal;
}

/** A function or undefined. */
export function fn<F>(option: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') fail(option, 'a function', value);
  return value as F;
}

/** A plain object of options (or undefined), with no unknown keys. */
export function options<O extends object>(what: string, value: unknown, known: readonly string[]): Partial<O> {
  if (value === undefined) return {};
  optionsObject(what, value);
  for (const key in value) {
    // for...in allocates no array
    if (!known.includes(key)) notAnOption(what, value, key, known);
  }
  return value as Partial<O>;
}

/** ConfigError unless `value` is an object of options (not null, not an array). */
export function optionsObject(what: string, value: unknown): asserts value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(what, 'an object of options', value);
}

/** ConfigError for `key`, listed in `value` but not a `known` option, when it is the object's own (an inherited key is not an option given here). */
export function notAnOption(what: string, value: object, key: string, known: readonly string[]): void {
  if (Object.prototype.hasOwnProperty.call(value, key)) {
    throw new ConfigError(key, `\`${key}\` is not an option of ${what}; known options: ${known.join(', ')}`);
  }
}

/** Headers: an object of string values. */
export function headers(option: string, value: unknown): Readonly<Record<string, string>> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(option, 'an object of string values', value);
  for (const k in value) {
    if (typeof (value as Record<string, unknown>)[k] !== 'string') {
      fail(`${option}.${k}`, 'a string', (value as Record<string, unknown>)[k]);
    }
  }
  return value as Readonly<Record<string, string>>;
}

/** The message of an unknown thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export { RANGE_MAX };
