#!/usr/bin/env node
// The `ringbus` CLI: runs dist/node/cli.js when built, else src/node/cli.ts through tsx.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'node', 'cli.js');
const args = process.argv.slice(2);

if (existsSync(built)) {
  const { run } = await import(pathToFileURL(built).href);
  await run(args);
} else {
  // from source: a child node with the source condition and the tsx loader (resolved from this package)
  const runner = join(root, 'bin', 'run-source.mjs');
  const child = spawn(process.execPath, ['--conditions=ringbus-source', '--import', 'tsx', runner, ...args], { cwd: process.cwd(), stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal !== null) process.kill(process.pid, signal);
    else process.exitCode = code ?? 1;
  });
}
