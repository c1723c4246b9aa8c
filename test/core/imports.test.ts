/**
 * No import circles in src/: every file must be loadable, and readable, after the files it
 * imports. A type-only import (`import type`, `import('./x.js').T`) counts too: a circle of types
 * is still a circle of concepts, and the next value import along it makes it a load-order bug.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT, sources } from './src-files.js';

const parsed = new Map<string, string[]>();

/** Every relative module specifier in a file: imports, re-exports, `import('…')` types and calls (parsed once per text). */
function specifiers(file: string, text: string): string[] {
  const key = `${file}\0${text}`;
  let found = parsed.get(key);
  if (found === undefined) parsed.set(key, (found = parse(file, text)));
  return found;
}

function parse(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      out.push(n.moduleSpecifier.text);
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) {
      out.push(n.argument.literal.text);
    } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0] && ts.isStringLiteral(n.arguments[0])) {
      out.push(n.arguments[0].text);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out.filter((s) => s.startsWith('.'));
}

/** The source file a relative specifier names (`./x.js` → x.ts, `./dir/index.js` → dir/index.ts). */
function target(from: string, spec: string, known: (p: string) => boolean): string | undefined {
  const base = resolve(dirname(from), spec);
  const candidates = [base.replace(/\.js$/, '.ts'), base.replace(/\.js$/, '.tsx'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find(known);
}

/** The graph of relative imports among `files` (absolute path → text). */
function graph(files: Map<string, string>): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const [file, text] of files) {
    const edges = specifiers(file, text)
      .map((s) => target(file, s, (p) => files.has(p)))
      .filter((t): t is string => t !== undefined);
    g.set(file, [...new Set(edges)].sort());
  }
  return g;
}

/**
 * Strongly connected components with more than one file (or a file importing itself): each as one
 * cycle through its first file, then the other files of the component.
 */
function cycles(g: Map<string, string[]>): { cycle: string[]; also: string[] }[] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: { cycle: string[]; also: string[] }[] = [];
  const strong = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!index.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc = new Set<string>();
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.add(w);
    } while (w !== v);
    if (scc.size === 1 && !(g.get(v) ?? []).includes(v)) return;
    const cycle = oneCycle(g, [...scc].sort()[0], scc);
    found.push({ cycle, also: [...scc].filter((f) => !cycle.includes(f)).sort() });
  };
  for (const v of [...g.keys()].sort()) if (!index.has(v)) strong(v);
  return found;
}

/** A shortest path from `start` back to itself inside its component (breadth first). */
function oneCycle(g: Map<string, string[]>, start: string, scc: Set<string>): string[] {
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of g.get(v) ?? []) {
      if (!scc.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(prev.get(path[0])!);
        return [...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

const show = ({ cycle, also }: { cycle: string[]; also: string[] }): string =>
  cycle.map((f) => relative(ROOT, f)).join(' -> ') + (also.length > 0 ? ` (with ${also.map((f) => relative(ROOT, f)).join(', ')})` : '');

describe('imports', () => {
  it('src/ has no import circle (type-only imports included)', () => {
    const files = new Map(sources(join(ROOT, 'src')).map((f) => [f, readFileSync(f, 'utf8')] as const));
    expect(files.size).toBeGreaterThan(50);
    const found = cycles(graph(files)).map(show);
    expect(found, `import circles:\n${found.join('\n')}`).toEqual([]);
  });

  it('the memory engine never imports its durable side: only memory/engine/ composes the two', () => {
    const memory = join(ROOT, 'src/internal/memory');
    const durable = join(ROOT, 'src/internal/durable');
    const composer = join(memory, 'engine');
    const files = new Map(sources(memory).map((f) => [f, readFileSync(f, 'utf8')] as const));
    expect(files.size).toBeGreaterThan(20);
    const reaching: string[] = [];
    for (const [file, edges] of graph(new Map([...files, ...sources(durable).map((f) => [f, ''] as const)]))) {
      if (file.startsWith(durable) || file.startsWith(composer)) continue;
      for (const e of edges) if (e.startsWith(durable)) reaching.push(`${relative(ROOT, file)} -> ${relative(ROOT, e)}`);
    }
    expect(reaching).toEqual([]);
  });

  it('the check resolves every relative import in src/', () => {
    const unresolved: string[] = [];
    for (const f of sources(join(ROOT, 'src'))) {
      for (const s of specifiers(f, readFileSync(f, 'utf8'))) {
        if (target(f, s, existsSync) === undefined) unresolved.push(`${relative(ROOT, f)}: ${s}`);
      }
    }
    expect(unresolved).toEqual([]);
  });

  it('the check sees a circle made of type-only imports, re-exports and import() types', () => {
    const at = (name: string): string => join(ROOT, 'src/probe', name);
    const files = new Map([
      [at('a.ts'), "import type { B } from './b.js';\nexport interface A { b: B }"],
      [at('b.ts'), "export * from './c.js';\nexport interface B { n: number }"],
      [at('c.ts'), "export type C = import('./a.js').A;"],
      [at('outside.ts'), "import { A } from './a.js';"],
      [at('e.ts'), "import './e.js';"],
    ]);
    expect(cycles(graph(files)).map(show)).toEqual([
      'src/probe/a.ts -> src/probe/b.ts -> src/probe/c.ts -> src/probe/a.ts',
      'src/probe/e.ts -> src/probe/e.ts',
    ]);
  });
});
