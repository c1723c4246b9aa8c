/**
 * Compiles a TypeScript program that a test runs in a child process into one ES module, so the
 * child starts with plain `node` instead of loading a TypeScript loader first (about a second a
 * process). ringbus's source is bundled in (`ringbus-source` condition, relative imports of
 * src/); every other package stays an import that Node resolves from node_modules.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Plugin } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(root, 'node_modules', '.cache', 'ringbus-test');

/** ringbus itself is bundled from source; every other bare import is loaded by Node at run time. */
export const packagesExceptRingbus: Plugin = {
  name: 'packages-except-ringbus',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (/^ringbus(\/|$)/.test(args.path) ? undefined : { path: args.path, external: true }));
  },
};

/** How a test program is bundled to run with plain `node`. */
export const nodeBuild: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['ringbus-source'],
  tsconfig: join(root, 'tsconfig.json'),
  plugins: [packagesExceptRingbus],
  // package.json says "sideEffects": false for the library; a test's own side-effect imports
  // (a clock, a setup module) must still run, as Node would run them
  ignoreAnnotations: true,
  logLevel: 'silent',
};

/**
 * Bundles `entry` (a .ts file) and returns the path of the .mjs to run with `node`. The file is
 * named after its content, so runs of the same code share it and concurrent runs never write
 * one another's.
 */
export async function bundleChild(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    outfile: 'child.mjs',
    write: false,
    ...nodeBuild,
  });
  const code = result.outputFiles![0].contents; // write: false gives the files back
  const out = join(outDir, `${basename(entry).replace(/\.[cm]?ts$/, '')}-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
  if (!existsSync(out)) {
    mkdirSync(outDir, { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, out);
  }
  return out;
}
