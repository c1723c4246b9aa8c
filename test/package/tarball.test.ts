import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Packed {
  files: { path: string }[];
}

/** What `npm pack` would put in the tarball (without building: `dist/` as it is now). */
async function packedFiles(): Promise<string[]> {
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root });
  const [packed] = JSON.parse(stdout) as Packed[];
  return packed!.files.map((f) => f.path);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : [relative(root, join(dir, e.name))],
  );
}

describe('the npm tarball', () => {
  it('holds the sources, the build, the CLI and the README, and no tests', async () => {
    const files = await packedFiles();
    expect(files.filter((f) => /(^|\/)(test|tests|__tests__)\/|\.(test|spec)\.|^bench\/|^examples\/|^scripts\//.test(f))).toEqual([]);
    expect(files.filter((f) => !/^(dist|src|bin)\//.test(f)).sort()).toEqual(['README.md', 'package.json']);
    const sources = sourceFiles(join(root, 'src')).filter((f) => !/\.test\.ts$/.test(f));
    expect(files.filter((f) => f.startsWith('src/')).sort()).toEqual(sources.sort());
  });

  it('has a prepare script that builds, so an install from git or a path gets dist/', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string>; exports: Record<string, { default?: string }> };
    expect(pkg.scripts['prepare']).toBe('npm run build');
    expect(pkg.scripts['build']).toContain('tsc -p tsconfig.build.json');
    for (const entry of Object.values(pkg.exports)) {
      if (typeof entry === 'object') expect(entry.default).toMatch(/^\.\/dist\//);
    }
  });
});
