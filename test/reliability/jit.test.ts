/**
 * JIT stability of the hot path: V8 keeps a hidden class (map) only while something has it, and
 * throws away optimized code that embedded a map or an object that died ("weak objects"). A
 * Delivery is short-lived and a consumer of `consume()` lives for one loop, so without the
 * classes' anchors (`DeliveryImpl.anchor`, `ConsumerImpl.anchor`) and with per-topic closures
 * on the face paths, every full GC between two loops deoptimized the take, wrap, hold and settle
 * paths (seen in the benchmarks after every repetition, halving some of them).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
/** ringbus's own hot functions: none of them may be dropped because an object died. */
const HOT = ['DeliveryImpl', 'wrap', 'hold', 'takeRaw', 'tryRecv', 'next', 'ack', 'release', 'onSettled', 'afterSettle'];

function trace(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--trace-deopt', '--conditions=ringbus-source', '--import', 'tsx', join(import.meta.dirname, 'deopt-child.ts'), '6', '200000'],
      { cwd: root, timeout: 60_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout + stderr)),
    );
  });
}

describe('JIT stability', () => {
  it('a full GC between consume() loops throws away none of the hot functions ("weak objects")', { timeout: 60_000 }, async () => {
    const out = await trace();
    expect(out.match(/@@ROUND \d+/g)).toHaveLength(6);
    expect(out, 'V8 printed no deopt trace: the test would prove nothing').toMatch(/\[bailout \(kind: deopt-/);
    const dropped = [...out.matchAll(/marking dependent code .*?<SharedFunctionInfo ([^>]*)>.*?reason: weak objects/g)].map((m) => m[1].trim());
    expect(dropped.filter((f) => HOT.includes(f))).toEqual([]);
  });
});
