// The `vitest` module as a browser page sees it: `describe`, `it`, hooks and vitest's own
// `expect` (@vitest/expect on chai), run in registration order by `window.__ringbusTests.run()`.
// test/browser/harness.ts aliases `vitest` to this file when it bundles a suite.
import * as chai from 'chai';
import {
  ASYMMETRIC_MATCHERS_OBJECT,
  ChaiStyleAssertions,
  getState,
  JestAsymmetricMatchers,
  JestChaiExpect,
  JestExtend,
  setState,
} from '@vitest/expect';

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(ChaiStyleAssertions);
chai.use(JestAsymmetricMatchers);

type Fn = () => unknown;

/** One case's outcome, as the Node side receives it. */
export interface CaseResult {
  name: string;
  ok: boolean;
  error?: string;
  /** Declared with `it.skip` (or `skipIf`, `describe.skip`): not run. */
  skipped?: true;
  ms: number;
}

/** A `describe` block: its `beforeAll`/`afterAll` hooks run around its first and last case. */
interface Scope {
  parent: Scope | undefined;
  beforeAll: Fn[];
  afterAll: Fn[];
  skip: boolean;
  started: boolean;
  last: Case | undefined;
}

interface Case {
  name: string;
  fn: Fn;
  timeout: number;
  before: Fn[];
  after: Fn[];
  fails: boolean;
  skip: boolean;
  scope: Scope;
}

const DEFAULT_TIMEOUT = 10_000;
const cases: Case[] = [];
const path: string[] = [];
let befores: Fn[] = [];
let afters: Fn[] = [];
let scope: Scope = { parent: undefined, beforeAll: [], afterAll: [], skip: false, started: false, last: undefined };

export const expect = ((value: unknown, message?: string) => {
  const { assertionCalls } = getState(expect);
  setState({ assertionCalls: assertionCalls + 1 }, expect);
  return chai.expect(value, message);
}) as unknown as typeof import('vitest').expect;
Object.assign(expect, chai.expect);
Object.assign(expect, (globalThis as Record<symbol, unknown>)[ASYMMETRIC_MATCHERS_OBJECT]);
setState({ assertionCalls: 0, isExpectingAssertions: false, expectedAssertionsNumber: null }, expect);
Object.assign(expect, {
  getState: () => getState(expect),
  setState: (state: object) => setState(state, expect),
  unreachable: (message?: string) => chai.assert.fail(`expected${message ? ` "${message}" ` : ' '}not to be reached`),
});

function group(name: string, body: () => void, skip = false): void {
  const saved = [befores, afters];
  const outer = scope;
  befores = [...befores];
  afters = [...afters];
  scope = { parent: outer, beforeAll: [], afterAll: [], skip: skip || outer.skip, started: false, last: undefined };
  path.push(name);
  try {
    body();
  } finally {
    path.pop();
    [befores, afters] = saved;
    scope = outer;
  }
}

export const describe = Object.assign(group, {
  skip: (name: string, body: () => void) => group(name, body, true),
  each:
    <T>(table: readonly T[]) =>
    (name: string, body: (...row: unknown[]) => void) =>
      table.forEach((row, i) => group(title(name, row, i), () => body(...spread(row)))),
});

/** A table row as arguments: an array row spreads, as in vitest's `each`. */
const spread = (row: unknown): unknown[] => (Array.isArray(row) ? row : [row]);

/** A table row's title: `%s` in `name` replaced by the row (or the row's first element). */
function title(name: string, row: unknown, i: number): string {
  const first = Array.isArray(row) ? row[0] : row;
  const shown = typeof first === 'object' && first !== null && 'name' in first ? String(first.name) : String(first);
  return name.includes('%s') ? name.replace('%s', shown) : `${name} [${i}]`;
}

function register(name: string, fn: Fn, timeout = DEFAULT_TIMEOUT, fails = false, skip = false): void {
  const c: Case = { name: [...path, name].join(' > '), fn, timeout, before: befores, after: afters, fails, skip: skip || scope.skip, scope };
  cases.push(c);
  if (!c.skip) for (let s: Scope | undefined = scope; s !== undefined; s = s.parent) s.last = c;
}

export const it = Object.assign(register, {
  each:
    <T>(table: readonly T[]) =>
    (name: string, fn: (...row: unknown[]) => unknown, timeout?: number) =>
      table.forEach((row, i) => register(title(name, row, i), () => fn(...spread(row)), timeout)),
  /** A case expected to fail (an assertion, a throw or an unhandled error): it fails once its body passes. */
  fails: (name: string, fn: Fn, timeout?: number) => register(name, fn, timeout, true),
  skip: (name: string, fn: Fn, timeout?: number) => register(name, fn, timeout, false, true),
  skipIf: (condition: unknown) => (name: string, fn: Fn, timeout?: number) => register(name, fn, timeout, false, Boolean(condition)),
  runIf: (condition: unknown) => (name: string, fn: Fn, timeout?: number) => register(name, fn, timeout, false, !condition),
});
export const test = it;

export function beforeEach(fn: Fn): void {
  befores.push(fn);
}

export function afterEach(fn: Fn): void {
  afters.unshift(fn);
}

export function beforeAll(fn: Fn): void {
  scope.beforeAll.push(fn);
}

export function afterAll(fn: Fn): void {
  scope.afterAll.unshift(fn);
}

/** The scopes of `c`, outermost first. */
function scopesOf(c: Case): Scope[] {
  const out: Scope[] = [];
  for (let s: Scope | undefined = c.scope; s !== undefined; s = s.parent) out.unshift(s);
  return out;
}

function message(error: unknown): string {
  if (error instanceof Error) return error.stack?.includes(error.message) ? error.stack : `${error.name}: ${error.message}`;
  return String(error);
}

async function runCase(c: Case): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${c.timeout} ms`)), c.timeout);
  });
  try {
    for (const s of scopesOf(c)) {
      if (s.started) continue;
      s.started = true;
      for (const fn of s.beforeAll) await Promise.race([fn(), timeout]);
    }
    for (const fn of c.before) await Promise.race([fn(), timeout]);
    await Promise.race([c.fn(), timeout]);
  } finally {
    clearTimeout(timer);
    for (const fn of c.after) await fn();
    for (const s of scopesOf(c).reverse()) if (s.last === c) for (const fn of s.afterAll) await fn();
  }
}

async function run(): Promise<CaseResult[]> {
  // a rejection nobody handled while a case runs fails that case
  let unhandled: unknown[] = [];
  addEventListener('unhandledrejection', (e) => {
    e.preventDefault();
    unhandled.push(e.reason);
  });
  addEventListener('error', (e) => {
    e.preventDefault();
    unhandled.push(e.error ?? e.message);
  });
  const results: CaseResult[] = [];
  for (const c of cases) {
    if (c.skip) {
      results.push({ name: c.name, ok: true, skipped: true, ms: 0 });
      continue;
    }
    unhandled = [];
    const start = performance.now();
    let error: string | undefined;
    try {
      await runCase(c);
      // the platform reports an unhandled rejection in a task of its own after the microtasks
      for (let n = 0; n < 2; n++) await new Promise((r) => setTimeout(r, 0));
      if (unhandled.length > 0) error = `unhandled: ${unhandled.map(message).join('\n')}`;
    } catch (e) {
      error = message(e);
    }
    if (c.fails) error = error === undefined ? 'expected this case to fail, and it passed: drop `.fails`' : undefined;
    results.push({ name: c.name, ok: error === undefined, ...(error === undefined ? {} : { error }), ms: Math.round(performance.now() - start) });
  }
  return results;
}

(globalThis as { __ringbusTests?: { run(): Promise<CaseResult[]> } }).__ringbusTests = { run };
