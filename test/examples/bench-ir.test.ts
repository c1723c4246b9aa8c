/**
 * `npm run bench:ir` (bench/instructions.ts) end to end on a tiny N, so the tool does not rot:
 * it bundles the child, runs it twice under valgrind and prints a count. valgrind is a tool, not
 * a service: `.ci/run` installs it when it is missing, and under CI=true the count is required.
 * Elsewhere, without valgrind, the count test checks the tool's refusal instead (it says what to
 * install); that refusal is also checked everywhere with valgrind hidden from PATH.
 */
import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const hasValgrind = spawnSync('valgrind', ['--version']).status === 0;
const CASE = 'ringbus channel(1024) send/recv/ack';

function node(args: string[], timeout: number, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--conditions=ringbus-source', '--import', 'tsx', ...args], { cwd: root, timeout, env: { ...process.env, NODE_OPTIONS: '', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

describe('bench:ir', () => {
  it('the child runs a case and verifies it', { timeout: 60_000 }, async () => {
    const r = await node(['bench/ir-child.ts', CASE, '3000', '1', '500'], 50_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('the child refuses an unknown case', { timeout: 60_000 }, async () => {
    const r = await node(['bench/ir-child.ts', 'no such case', '10', '0', '1'], 50_000);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('no case named "no such case"');
  });

  it('the tool needs a filter', { timeout: 60_000 }, async () => {
    const r = await node(['bench/instructions.ts'], 50_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--filter');
  });

  it('without valgrind on PATH the tool refuses, naming what to install', { timeout: 60_000 }, async () => {
    const r = await node(['bench/instructions.ts', '--filter', CASE], 50_000, { PATH: '/nonexistent' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('valgrind is not installed (Debian: apt-get install valgrind)');
  });

  it('counts instructions a message under valgrind (where valgrind is missing outside CI: the tool says so)', { timeout: 240_000 }, async () => {
    if (process.env.CI === 'true') expect(hasValgrind, 'valgrind is not installed (apt-get install valgrind; .ci/run installs it)').toBe(true);
    const r = await node(['bench/instructions.ts', '--filter', CASE, '--n', '20000', '--warmup', '1', '--warmup-n', '2000'], 230_000);
    if (!hasValgrind) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('valgrind is not installed');
      return;
    }
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = /^\s*([\d.]+) Ir\/msg {2}ringbus channel/m.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    // a channel message costs hundreds to thousands of instructions, never zero
    expect(Number(m?.[1])).toBeGreaterThan(100);
    expect(Number(m?.[1])).toBeLessThan(100_000);
  });
});
