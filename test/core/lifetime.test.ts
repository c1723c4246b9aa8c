import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * DESIGN.md §2 "Time": a timer keeps a Node process alive exactly while someone waits for what it
 * brings; background work never does. Each case is a small script (test/core/lifetime/) run in
 * its own Node process, which prints how long it lived (`clock.ts`, tsx's start-up left out).
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = join(root, 'test', 'core', 'lifetime');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** How long the script's body lived, from `clock.ts`'s `lived <ms>` line. */
  lived: number;
}

function run(file: string): Promise<Run> {
  return new Promise((resolve) => {
    const args = ['--conditions=ringbus-source', '--import', 'tsx', file];
    execFile(process.execPath, args, { cwd: root, timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '' } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      const lived = /lived (\d+) exit/.exec(stdout);
      resolve({ code, stdout, stderr, lived: lived === null ? NaN : Number(lived[1]) });
    });
  });
}

/** Runs the first ```ts block after `heading` in a document (its lifetime measured from its body). */
function runDoc(doc: string, heading: string): Promise<Run> {
  const text = readFileSync(join(root, doc), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(text.slice(text.indexOf(heading)))?.[1];
  expect(code, `a ts block after ${heading} in ${doc}`).toBeDefined();
  const out = join(root, 'test', '.snippets');
  mkdirSync(out, { recursive: true });
  const file = join(out, `lifetime-${doc.replace(/\W+/g, '-')}.mts`);
  writeFileSync(file, `${code}\nimport ${JSON.stringify(join(dir, 'clock.ts'))};\n`);
  return run(file);
}

/** Far below every timer the "done" scripts leave pending (30 s; an ack-timeout sweep: 7.5 s). */
const PROMPT_MS = 3_000;

describe.concurrent('a timer holds the process while someone waits for it', () => {
  it('a top-level recvTimeout(500) resolves undefined after its timeout', async () => {
    const r = await run(join(dir, 'recv-timeout.ts'));
    expect(r.stdout).toContain('timed out with undefined');
    expect(r.code).toBe(0);
    expect(r.lived).toBeGreaterThanOrEqual(450);
    expect(r.lived).toBeLessThan(PROMPT_MS);
  });

  it('a nack({ delayMs }) redelivery reaches a waiting recv()', async () => {
    const r = await run(join(dir, 'nack-delay.ts'));
    expect(r.stdout).toContain('redelivered job 2');
    expect(r.code).toBe(0);
    expect(r.lived).toBeGreaterThanOrEqual(250);
  });

  it('an ack-timeout redelivery reaches a waiting recv()', async () => {
    const r = await run(join(dir, 'ack-timeout.ts'));
    expect(r.stdout).toContain('redelivered job 2');
    expect(r.code).toBe(0);
    expect(r.lived).toBeGreaterThanOrEqual(250);
  });

  it('an ack-timeout redelivery reaches a waiting iterator next()', async () => {
    const r = await run(join(dir, 'iterator.ts'));
    expect(r.stdout).toContain('got job 1');
    expect(r.stdout).toContain('got job 2');
    expect(r.code).toBe(0);
  });

  it('a delayed redelivery reaches a pending stream read', async () => {
    const r = await run(join(dir, 'stream-read.ts'));
    expect(r.stdout).toContain('redelivered job 2');
    expect(r.code).toBe(0);
  });

  it('a subscribed messages() gets its delayed redelivery, then the process exits with the subscription open', async () => {
    const r = await run(join(dir, 'messages-retry.ts'));
    expect(r.stdout).toContain('redelivered job 2');
    expect(r.code).toBe(0);
    expect(r.lived).toBeGreaterThanOrEqual(250);
    expect(r.lived).toBeLessThan(PROMPT_MS);
  });

  it('a bufferMessages batch open under a subscription is emitted on time, then the process exits', async () => {
    const r = await run(join(dir, 'buffer.ts'));
    expect(r.stdout).toContain('batch 1,2,3');
    expect(r.code).toBe(0);
    expect(r.lived).toBeGreaterThanOrEqual(250);
    expect(r.lived).toBeLessThan(PROMPT_MS);
  });

  it('a subscribed stats$ ticks until unsubscribed, then the process exits', async () => {
    const r = await run(join(dir, 'stats.ts'));
    expect(r.stdout.match(/tick t/g)).toHaveLength(3);
    expect(r.stdout).toContain('done');
    expect(r.code).toBe(0);
    expect(r.lived).toBeGreaterThanOrEqual(250);
    expect(r.lived).toBeLessThan(PROMPT_MS);
  });

  it("the README's first example retries, then exits", async () => {
    const r = await runDoc('README.md', '### Process a topic: `handle`');
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('order 2: nack (Error: card declined)');
    expect(r.stdout).toMatch(/billed order 1: 25[\s\S]*billed order 2: 40/);
    expect(r.code).toBe(0);
    expect(r.lived).toBeGreaterThanOrEqual(80); // the retry's 100 ms
    expect(r.lived).toBeLessThan(PROMPT_MS); // not the ack timeout's 30 s sweep
  });

  it("docs/semantics.md's example waits for its redelivery and its recvTimeout, then exits", async () => {
    const r = await runDoc('docs/semantics.md', '## Time and process lifetime');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^resize photo\.jpg 2\nundefined\n/);
    expect(r.code).toBe(0);
    expect(r.lived).toBeGreaterThanOrEqual(250); // 200 ms + 100 ms
    expect(r.lived).toBeLessThan(PROMPT_MS);
  });
});

describe.concurrent('background timers never hold a finished script', () => {
  const cases: [string, string, string][] = [
    ['an unsettled delivery and a delayed redelivery nobody waits for', 'done-unacked.ts', 'holding 1'],
    ['messages with a TTL', 'done-ttl.ts', 'published 2'],
    ['an unsubscribed stats$', 'done-stats.ts', 'unsubscribed'],
    ['a recv() ended by closing its consumer, a delayed redelivery pending', 'done-closed.ts', 'recv after close: undefined'],
    ['a recvTimeout(30 s) answered by a message', 'done-recv-timeout.ts', 'received 7'],
    ['a readable read once, no read pending', 'done-readable.ts', 'read 1'],
  ];
  for (const [name, file, printed] of cases) {
    it(`exits at once: ${name}`, async () => {
      const r = await run(join(dir, file));
      expect(r.stdout).toContain(printed);
      expect(r.code).toBe(0);
      expect(r.lived).toBeLessThan(PROMPT_MS);
    });
  }
});
