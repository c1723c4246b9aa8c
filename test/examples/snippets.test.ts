/**
 * Every ```ts block of README.md and docs/recipes.md that imports ringbus is a complete program:
 * each runs in its own Node process and must exit 0 on its own with nothing on stderr (so a
 * snippet that leaves the process hanging, or ends it before its work is done, fails here).
 *
 * The snippets are compiled in one esbuild pass (TypeScript stripped, the ringbus source bundled
 * in through the `ringbus-source` condition, every other package left to Node) and run with plain
 * `node`: starting a TypeScript loader once per snippet would cost a second each.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { nodeBuild } from '../bundle.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// its own folder: other test files write their scripts beside it while this one clears it
const out = join(root, 'test', '.snippets', 'docs');
const DOCS = ['README.md', 'docs/recipes.md'];

interface Snippet {
  doc: string;
  name: string;
  code: string;
}

/** The ```ts blocks of a document that import ringbus, in order. */
function snippets(doc: string): Snippet[] {
  const text = readFileSync(join(root, doc), 'utf8');
  const found: Snippet[] = [];
  const re = /```ts\n([\s\S]*?)```/g;
  let m: RegExpExecArray | null;
  let n = 0;
  while ((m = re.exec(text)) !== null) {
    n++;
    if (/from 'ringbus(\/[a-z]+)?'/.test(m[1])) found.push({ doc, name: `${doc.replace(/\W+/g, '-')}-${n}`, code: m[1] });
  }
  return found;
}

function run(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [file], { cwd: root, timeout: 30_000, env: { ...process.env, NODE_OPTIONS: '' } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

const all = DOCS.flatMap(snippets);

describe('documentation snippets run', () => {
  beforeAll(async () => {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    for (const s of all) writeFileSync(join(out, `${s.name}.mts`), s.code);
    await build({
      entryPoints: all.map((s) => join(out, `${s.name}.mts`)),
      outdir: out,
      outExtension: { '.js': '.mjs' },
      ...nodeBuild,
    });
  });

  for (const doc of DOCS) {
    it(`${doc} has runnable snippets`, () => {
      expect(all.filter((s) => s.doc === doc).length).toBeGreaterThan(3);
    });
  }

  // Separate processes: they may run side by side.
  for (const s of all) {
    it.concurrent(`${s.name} exits 0`, async ({ expect }) => {
      const r = await run(join(out, `${s.name}.mjs`));
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }, 40_000); // a snippet importing the NATS and Redis clients takes 2 s to start on a loaded machine, and they run side by side
  }
});
