/**
 * Leak tests, each in a child process with `--expose-gc` (see leak-child.ts): subscribe and
 * unsubscribe, create and close consumers, open and cancel readables, LEAK_N times each
 * (100 000 by default, 1 000 000 with RINGBUS_DEEP=1); and LEAK_N / 5 topics and channels
 * created, used once and closed.
 *
 * Tolerance: the heap after the loop (after forced GCs) may exceed the heap before it by at
 * most 1 MiB. Any per-iteration leak is at least one object (≥ 16 bytes; a listener closure or
 * a Delivery is ≥ 32), i.e. ≥ 1.6 MB at 100 000 iterations, so it cannot hide under the bound;
 * the measured noise is ±0.5 MB (and does not grow from 1e5 to 1e6 iterations).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleChild } from '../bundle.js';
import { LEAK_N, report, TIMEOUT } from './config.js';

const root = join(import.meta.dirname, '..', '..');
const TOLERANCE = 1024 * 1024;

/** leak-child.ts, compiled once: every scenario runs in a fresh process. */
let child = '';
beforeAll(async () => {
  child = await bundleChild(join(import.meta.dirname, 'leak-child.ts'));
});

interface Probe {
  scenario: string;
  n: number;
  ms: number;
  before: number;
  after: number;
  growth: number;
  listenersLeft: number;
  listenersAdded: number;
  timers: number;
  subscribers: number;
  groups: number;
}

function probe(scenario: string, n = LEAK_N): Promise<Probe> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', child, scenario, String(n)],
      { cwd: root, timeout: TIMEOUT, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${scenario}: ${err.message}\n${stderr}`));
        resolve(JSON.parse(stdout.trim().split('\n').pop() as string) as Probe);
      },
    );
  });
}

describe(`leaks (${LEAK_N} iterations each, child process with --expose-gc)`, () => {
  for (const [scenario, what] of [
    ['subscribe', 'subscribe/unsubscribe messages() and values()'],
    ['consumers', 'create/close consumers (grouped and private, with held deliveries and waiting recvs)'],
    ['readables', 'open and cancel readables (half of them after a read)'],
  ] as const) {
    it(
      `${what}: heap returns to baseline, no abort listener, no member and no timer left`,
      async () => {
        const p = await probe(scenario);
        report(`leak ${scenario}: ${p.n} iterations in ${p.ms} ms, heap ${(p.growth / 1024).toFixed(0)} KiB vs baseline, ${p.listenersAdded} abort listeners added / ${p.listenersLeft} left, ${p.timers} timer(s) pending`);
        expect(p.growth).toBeLessThan(TOLERANCE);
        expect(p.listenersAdded).toBeGreaterThanOrEqual(p.n); // the signal really was listened to
        expect(p.listenersLeft).toBe(0);
        expect(p.subscribers).toBe(0);
        expect(p.groups).toBe(1); // private groups are gone, the durable one stays
        expect(p.timers).toBeLessThanOrEqual(2); // bounded (one ack-timeout sweep may be armed), not O(n)
      },
      TIMEOUT,
    );
  }

  for (const [scenario, what] of [
    ['closed-topics', 'create a topic, publish, recv and ack, close'],
    ['closed-channels', 'create a channel, send, recv and ack, close'],
  ] as const) {
    const n = LEAK_N / 5;
    it(
      `${what} (${n} times, each with an ack timeout): nothing keeps a closed one, no timer left`,
      async () => {
        const p = await probe(scenario, n);
        report(`leak ${scenario}: ${p.n} cycles in ${p.ms} ms, heap ${(p.growth / 1024).toFixed(0)} KiB vs baseline, ${p.timers} timer(s) pending`);
        expect(p.timers).toBe(0); // the ack-timeout sweep each delivery armed is cancelled by the close
        expect(p.growth).toBeLessThan(TOLERANCE);
      },
      TIMEOUT,
    );
  }
});
