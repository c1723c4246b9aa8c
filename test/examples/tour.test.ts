import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundleChild } from '../bundle.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `examples/<name>.ts` from the repository root: the tour the way `npm start` runs it
 * (through tsx), the others compiled to plain JavaScript first (test/bundle.ts), which spares
 * each process a TypeScript loader's start-up.
 */
async function runExample(name: string): Promise<Run> {
  const file = join(root, 'examples', `${name}.ts`);
  const args = name === 'tour' ? ['--conditions=ringbus-source', '--import', 'tsx', file] : [await bundleChild(file)];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: root, timeout: 30_000, env: { ...process.env, NODE_OPTIONS: '' } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

const TIMEOUT = 40_000;

describe('examples', () => {
  it('the tour exits 0 on its own and narrates every scene', async () => {
    const { code, stdout, stderr } = await runExample('tour');
    expect(stderr).not.toMatch(/Error/);
    expect(code).toBe(0);
    // 1. work queue: the crashed worker's message is redelivered to another receiver
    expect(stdout).toMatch(/worker alice received offset 0 .*\(deliveryCount 1\)/);
    expect(stdout).toMatch(/worker bob {3}received offset 0 .*\(deliveryCount 2\) {2}<- redelivered/);
    expect(stdout).toContain('bob.recv() now resolves undefined');
    // 2. fan-out: both groups see all three orders
    expect(stdout).toContain('billing saw 3 orders, shipping saw 3');
    for (const id of [1, 2, 3]) {
      expect(stdout).toContain(`billing  charges order #${id}`);
      expect(stdout).toContain(`shipping packs   order #${id}`);
    }
    // 3. replay from an offset, then seek
    expect(stdout).toMatch(/audit reads offset 1 /);
    expect(stdout).not.toMatch(/audit reads offset 0 /);
    expect(stdout).toMatch(/audit\.seek\(0\); next delivery is offset 0 /);
    // 4. dead letter after maxDeliveries
    expect(stdout).toMatch(/fraud got offset 3 .*\(deliveryCount 3\) -> nack/);
    expect(stdout).not.toMatch(/deliveryCount 4/);
    expect(stdout).toContain('x-dead-letter-reason: max-deliveries');
    expect(stdout).toContain('x-original-offset: 3');
    expect(stdout).toContain('x-original-group: fraud');
    expect(stdout).toContain('x-deliveries: 3');
    // 5. backpressure held the producer, and nothing was lost
    expect(stdout).toContain('tryPublish(99) returns false, publish() waits');
    const held = /publish\(\) held the producer (\d+) times/.exec(stdout);
    expect(held).not.toBeNull();
    expect(Number(held?.[1])).toBeGreaterThan(0);
    expect(stdout).toContain('events: published 12, dropped 0, rejected 0.');
    // 6. stats
    expect(stdout).toMatch(/fraud +committed 4 .* deadLettered 1/);
    expect(stdout).toMatch(/slow +committed 12 +lag 0 .* acked 12/);
    expect(stdout).toContain('tour complete.');
  }, TIMEOUT);

  it('work-queue: each job done once, the failed and the hung jobs redelivered', async () => {
    const { code, stdout, stderr } = await runExample('work-queue');
    expect(stderr).not.toMatch(/Error/);
    expect(code).toBe(0);
    expect(stdout).toContain('hung worker took job 0');
    expect(stdout).toMatch(/did job 3 \(deliveryCount 2, redelivered\)/);
    expect(stdout).toMatch(/did job 0 \(deliveryCount 2, redelivered\)/);
    expect(stdout).toContain("the hung worker's delivery is stale now: ack() returns false");
    expect(stdout).toContain('every job exactly once: true');
  }, TIMEOUT);

  it('web-streams: readings flow through writable() and readable(), then the stream closes', async () => {
    const { code, stdout, stderr } = await runExample('web-streams');
    expect(stderr).not.toMatch(/Error/);
    expect(code).toBe(0);
    expect(stdout).toContain('dashboard s0: 18 C (offset 0)');
    expect(stdout).toContain('dashboard s0: 27 C (offset 9)');
    expect(stdout).toContain('the topic stays open (closed: false)');
    expect(stdout).toContain('dashboard: readable closed after the topic closed and drained');
    expect(stdout).toContain('dashboard group: delivered 10, acked 10, lag 0');
  }, TIMEOUT);

  it('fan-out: private subscriptions see everything, group members split, ix take(2)', async () => {
    const { code, stdout, stderr } = await runExample('fan-out');
    expect(stderr).not.toMatch(/Error/);
    expect(code).toBe(0);
    expect(stdout).toContain('subscription A (no group) saw 6');
    expect(stdout).toContain('subscription B (no group) saw 6');
    const split = /member m1 got (.*); m2 got (.*)/.exec(stdout);
    expect(split).not.toBeNull();
    const m1 = split?.[1].split(' ') ?? [];
    const m2 = split?.[2].split(' ') ?? [];
    expect(m1.length + m2.length).toBe(6);
    expect(m1.length).toBeGreaterThan(0);
    expect(m2.length).toBeGreaterThan(0);
    expect(stdout).toContain('after unsubscribing, groups left: pricing');
    expect(stdout).toContain('alert: INIT at 120 (offset 1)');
    expect(stdout).toContain('alert: ACME at 101 (offset 2)');
    expect(stdout).toContain('alerts group: acked 2, filtered 1, committed 3, members 0');
  }, TIMEOUT);
});
