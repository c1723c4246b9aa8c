import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { freshPrefix, NATS_URL, nats } from './service.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

// examples/nats.ts, the runnable example of docs/engines.md, runs to completion against the server
it.skipIf(!nats.available)(`examples/nats.ts runs${nats.available ? '' : ` (${nats.reason})`}`, { timeout: 30_000 }, async () => {
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--conditions=ringbus-source', '--import', 'tsx', 'examples/nats.ts'], { cwd: root, timeout: 25_000, env: { ...process.env, NODE_OPTIONS: '', RINGBUS_NATS_URL: NATS_URL, RINGBUS_NATS_PREFIX: freshPrefix() } }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr }),
    );
  });
  expect(stderr).toBe('');
  expect(code).toBe(0);
  expect(stdout).toContain('job 2 (offset 1, delivery 1)');
  expect(stdout).toContain('dead letter: {"n":-1} after 3 deliveries (max-deliveries)');
});
