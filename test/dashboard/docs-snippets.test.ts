import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundleChild } from '../bundle.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const out = join(root, 'test', '.snippets');
const DOC = 'docs/observability.md';

/** Every ```ts block of docs/observability.md that imports ringbus is a complete program. */
function snippets(): { name: string; code: string }[] {
  const text = readFileSync(join(root, DOC), 'utf8');
  const found: { name: string; code: string }[] = [];
  const re = /```ts\n([\s\S]*?)```/g;
  let m: RegExpExecArray | null;
  let n = 0;
  while ((m = re.exec(text)) !== null) {
    n++;
    if (/from 'ringbus(\/[a-z]+)?'/.test(m[1])) found.push({ name: `docs-observability-md-${n}`, code: m[1] });
  }
  return found;
}

/** Runs a snippet compiled to plain JavaScript first (test/bundle.ts): no TypeScript loader to start. */
async function run(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const js = await bundleChild(file);
  return new Promise((resolve) => {
    execFile(process.execPath, [js], { cwd: root, timeout: 30_000, env: { ...process.env, NODE_OPTIONS: '' } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

describe('docs/observability.md snippets run', () => {
  mkdirSync(out, { recursive: true });
  const found = snippets();
  it('has a snippet per piece', () => {
    expect(found.length).toBe(3);
  });
  for (const s of found) {
    it(`${s.name} exits 0 and prints what its comments say`, { timeout: 40_000 }, async () => {
      const file = join(out, `${s.name}.mts`);
      writeFileSync(file, s.code);
      const r = await run(file);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).not.toMatch(/false|undefined/);
    });
  }
});
