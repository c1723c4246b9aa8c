/**
 * The source is compiled with `useDefineForClassFields: false` (tsconfig.json says why): a field
 * declared without an initializer is then not emitted at all. That is only safe while every such
 * field is assigned in its class's constructor; one assigned later would appear on the object
 * later, changing its hidden class mid-life (slower property access everywhere it is read).
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT, sources } from './src-files.js';

/** Instance fields with no initializer that the constructor does not assign (`this.name = …`). */
function lateFields(file: string, text = readFileSync(file, 'utf8')): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const late: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isClassDeclaration(n) || ts.isClassExpression(n)) {
      const ctor = n.members.find(ts.isConstructorDeclaration);
      const body = ctor?.body?.getText(sf) ?? '';
      for (const m of n.members) {
        if (!ts.isPropertyDeclaration(m) || m.initializer !== undefined) continue;
        const flags = ts.getCombinedModifierFlags(m);
        if (flags & (ts.ModifierFlags.Ambient | ts.ModifierFlags.Abstract)) continue; // `declare`, abstract: never emitted
        const name = m.name.getText(sf);
        const assigned = new RegExp(`this\\.${name.replace(/[$#]/g, '\\$&')}\\s*=[^=]`).test(body);
        if (!assigned || flags & ts.ModifierFlags.Static) late.push(`${relative(ROOT, file)}: ${n.name?.getText(sf) ?? '<class>'}.${name}`);
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return late;
}

describe('class fields', () => {
  it('compiles with useDefineForClassFields: false', () => {
    const cfg = ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile);
    expect(cfg.error).toBeUndefined();
    expect((cfg.config as { compilerOptions: Record<string, unknown> }).compilerOptions.useDefineForClassFields).toBe(false);
  });

  it('every field without an initializer is assigned in its constructor', () => {
    const late = sources(join(ROOT, 'src')).flatMap((f) => lateFields(f));
    expect(late, 'give these an initializer (`= undefined`) or assign them in the constructor').toEqual([]);
  });

  it('the check sees a late field', () => {
    const src = 'class P { a: number; b: string | undefined; c = 0; declare d: number; constructor() { this.a = 1; } }';
    expect(lateFields(join(ROOT, 'src/probe.ts'), src)).toEqual(['src/probe.ts: P.b']);
  });
});
