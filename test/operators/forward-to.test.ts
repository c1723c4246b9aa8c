/**
 * Consume–transform–produce: `forwardTo` / `forwardToStream` settle each source delivery only
 * once its copy is accepted; and every publishing operator on a durable destination counts a
 * copy as accepted only once it is synced.
 */
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { lastValueFrom, Observable, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { ClosedError, ConfigError, createBus, type Delivery, type Topic } from '../../src/index.js';
import { fileStorage } from '../../src/node/index.js';
import { deadLetterTo, deadLetterToStream, forwardTo, forwardToStream, publishTo, publishToStream } from '../../src/operators/index.js';
import { cleanTempDirs, tempDir } from '../node/helpers.js';
import { FORWARD_RUNS, SEED } from '../reliability/config.js';

afterAll(() => cleanTempDirs());

/** Every value of `t` from the earliest retained offset. */
function everything<T>(t: Topic<T>): T[] {
  const c = t.consumer({ from: 'earliest', ack: 'auto', prefetch: 1 << 20 });
  const out: T[] = [];
  for (let d = c.tryRecv(); d !== undefined; d = c.tryRecv()) out.push(d.value);
  c.close();
  return out;
}

/** What group `g` of `t` still has for a new member, values in offset order. */
function remaining<T>(t: Topic<T>, group: string): T[] {
  const c = t.consumer({ group, prefetch: 1 << 20 });
  const out: T[] = [];
  for (let d = c.tryRecv(); d !== undefined; d = c.tryRecv()) out.push(d.value);
  c.close();
  return out;
}

describe('forwardTo', () => {
  it('publishes map(value) with the delivery key and headers, acks each delivery once published, emits offsets in order', async () => {
    const bus = createBus();
    const src = bus.topic<number>('src', { groups: ['g'] });
    const dst = bus.topic<string>('dst', { groups: ['x'] });
    await src.publish(1, { key: 'a', headers: { h: '1' } });
    await src.publish(2);
    await src.close();
    const offsets = await lastValueFrom(src.messages({ group: 'g' }).pipe(forwardTo(dst, { map: (n: number, d) => `${n}@${d.offset}` }), toArray()));
    expect(offsets).toEqual([0, 1]);
    expect(src.stats().groups.g).toMatchObject({ acked: 2, pending: 0, committed: 2 });
    const x = dst.consumer({ group: 'x' });
    const first = x.tryRecv()!;
    expect([first.value, first.key, first.headers]).toEqual(['1@0', 'a', { h: '1' }]);
    expect(x.tryRecv()?.value).toBe('2@1');
  });

  it('key and headers can be set or computed from the delivery', async () => {
    const bus = createBus();
    const src = bus.topic<number>('src', { groups: ['g'] });
    const dst = bus.topic<number>('dst', { groups: ['x'] });
    await src.publish(5, { key: 'old' });
    await src.close();
    await lastValueFrom(src.messages({ group: 'g' }).pipe(forwardTo(dst, { key: (d) => `k${d.value}`, headers: { via: 'fwd' }, ttlMs: 60_000 }), toArray()));
    const d = dst.consumer({ group: 'x' }).tryRecv()!;
    expect([d.key, d.headers]).toEqual(['k5', { via: 'fwd' }]);
  });

  it('the destination closed mid-stream: what was not forwarded is nacked and stays in the source; the stream errors', async () => {
    const bus = createBus();
    const src = bus.topic<number>('src', { groups: ['g'] });
    const dst = bus.topic<number>('dst');
    await src.publishBatch([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const forwarded: number[] = [];
    const err = await new Promise<unknown>((resolve) => {
      src.messages({ group: 'g', prefetch: 3 }).pipe(forwardTo(dst)).subscribe({
        next: (off) => {
          forwarded.push(off);
          if (forwarded.length === 4) void dst.close();
        },
        error: resolve,
        complete: () => resolve(undefined),
      });
    });
    expect(err).toBeInstanceOf(ClosedError);
    expect(src.stats().groups.g.acked).toBe(4);
    expect(everything(dst)).toEqual([0, 1, 2, 3]);
    expect(remaining(src, 'g')).toEqual([4, 5, 6, 7, 8, 9]);
  });

  it('a throwing map nacks the delivery and errors the stream', async () => {
    const bus = createBus();
    const src = bus.topic<number>('src', { groups: ['g'] });
    const dst = bus.topic<number>('dst');
    await src.publishBatch([1, 2]);
    const boom = new Error('boom');
    const err = await lastValueFrom(src.messages({ group: 'g' }).pipe(forwardTo(dst, { map: (n: number) => { if (n === 2) throw boom; return n; } }))).catch((e: unknown) => e);
    expect(err).toBe(boom);
    expect(everything(dst)).toEqual([1]);
    expect(remaining(src, 'g')).toEqual([2]);
  });

  it('validates its arguments', () => {
    const t = createBus().topic('t');
    expect(() => forwardTo({} as Topic<number>)).toThrow(ConfigError);
    expect(() => forwardTo(t, { map: 1 as never })).toThrow(ConfigError);
    expect(() => forwardTo(t, { nope: 1 } as never)).toThrow(ConfigError);
    expect(() => forwardToStream(t, { ttlMs: -1 })).toThrow(ConfigError);
  });
});

/** Forwards `n` messages through a web-stream pipe whose destination closes after `closeAfter` copies. */
async function pipeClosingMidway(n: number, closeAfter: number, prefetch: number, transform: (dst: Topic<number>) => TransformStream<Delivery<number>, unknown>, dir?: string) {
  const bus = createBus(dir === undefined ? {} : { storage: fileStorage(dir) });
  const src = bus.topic<number>('src', { groups: ['g'], capacity: 1024 });
  const dst = bus.topic<number>('dst', { capacity: 1024 });
  await src.publishBatch(Array.from({ length: n }, (_, i) => i));
  await src.close(); // the pipe ends once the source is drained
  let seen = 0;
  await src
    .readable({ group: 'g', prefetch })
    .pipeThrough(transform(dst))
    .pipeTo(
      new WritableStream({
        write() {
          if (++seen === closeAfter) void dst.close();
        },
      }),
    )
    .catch(() => undefined);
  const copies = everything(dst);
  const result = { acked: src.stats().groups.g.acked, copies, left: remaining(src, 'g') };
  await bus.close();
  return result;
}

/** The transform a user writes first: acks in `transform`, publishes with `tryPublish`. */
const naive = (dst: Topic<number>): TransformStream<Delivery<number>, number> =>
  new TransformStream({
    transform(d, c) {
      d.ack();
      if (!dst.closed) dst.tryPublish(d.value);
      c.enqueue(d.value);
    },
  });

describe('forwardToStream', () => {
  it('the destination closed mid-pipe: every acked delivery has its copy, the rest stay in the source', async () => {
    const { acked, copies, left } = await pipeClosingMidway(10, 4, 4, (dst) => forwardToStream(dst));
    expect(copies).toEqual([0, 1, 2, 3]);
    expect(acked).toBe(4);
    expect(left).toEqual([4, 5, 6, 7, 8, 9]);
  });

  it('(the naive transform that acks in transform loses what the closed destination refused)', async () => {
    const { acked, copies } = await pipeClosingMidway(10, 4, 4, naive);
    expect(acked).toBeGreaterThan(copies.length); // the very defect forwardToStream exists for
  });

  it('property: for any size, prefetch and closing point, acked = copies and copies + left = everything, in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 16 }), async (n, closeAt, prefetch) => {
        const { acked, copies, left } = await pipeClosingMidway(n, closeAt, prefetch, (dst) => forwardToStream(dst));
        expect(acked).toBe(copies.length);
        expect([...copies, ...left]).toEqual(Array.from({ length: n }, (_, i) => i));
      }),
      { numRuns: FORWARD_RUNS, seed: SEED },
    );
  });

  it('the same on a durable bus, where copies are acked once synced while later ones are published', async () => {
    for (const [n, closeAt, prefetch] of [[10, 4, 4], [40, 1, 16], [40, 17, 64], [25, 25, 3], [30, 50, 8]]) {
      const { acked, copies, left } = await pipeClosingMidway(n, closeAt, prefetch, (dst) => forwardToStream(dst), tempDir('ringbus-fwd-'));
      expect(acked, `n ${n}, close at ${closeAt}, prefetch ${prefetch}`).toBe(copies.length);
      expect(copies.length).toBeGreaterThanOrEqual(Math.min(n, closeAt));
      expect([...copies, ...left]).toEqual(Array.from({ length: n }, (_, i) => i));
    }
  });

  it('maps values and carries key and headers', async () => {
    const bus = createBus();
    const src = bus.topic<string>('src', { groups: ['g'] });
    const dst = bus.topic<string>('dst', { groups: ['x'] });
    await src.publish('a', { key: 'k', headers: { h: '1' } });
    await src.close();
    await src.readable({ group: 'g' }).pipeThrough(forwardToStream(dst, { map: (s: string) => s.toUpperCase() })).pipeTo(new WritableStream());
    const d = dst.consumer({ group: 'x' }).tryRecv()!;
    expect([d.value, d.key, d.headers]).toEqual(['A', 'k', { h: '1' }]);
    expect(src.stats().groups.g).toMatchObject({ acked: 1, pending: 0 });
  });

  it('deadLetterToStream nacks what it cannot publish', async () => {
    const { acked, copies, left } = await pipeClosingMidway(6, 2, 3, (dst) => deadLetterToStream(dst));
    expect(acked).toBe(copies.length);
    expect([...copies, ...left]).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

/** A copy of `dir` as a SIGKILL would leave it now: what was written, without the lock. */
function crashCopy(dir: string): string {
  const copy = tempDir('ringbus-op-copy-');
  cpSync(dir, copy, { recursive: true });
  rmSync(join(copy, 'LOCK'), { force: true });
  return copy;
}

/** What a durable topic `name` holds in the directory `dir` (reopened). */
async function onDisk(dir: string, name: string): Promise<unknown[]> {
  const bus = createBus({ storage: fileStorage(dir) });
  const values = everything(bus.topic(name));
  await bus.close();
  return values;
}

describe('forwardTo into a durable topic closed mid-stream', () => {
  it('acks exactly the copies: those published before the failure are reported first, the rest stay in the source', async () => {
    for (const closeAt of [1, 3, 7]) {
      const dir = tempDir('ringbus-fwd-');
      const bus = createBus({ storage: fileStorage(dir) });
      const src = bus.topic<number>('src', { groups: ['g'] });
      const dst = bus.topic<number>('dst');
      await src.publishBatch(Array.from({ length: 12 }, (_, i) => i));
      let emitted = 0;
      const err = await new Promise<unknown>((resolve) => {
        src.messages({ group: 'g', prefetch: 4 }).pipe(forwardTo(dst)).subscribe({
          next: () => {
            if (++emitted === closeAt) void dst.close();
          },
          error: resolve,
          complete: () => resolve(undefined),
        });
      });
      expect(err).toBeInstanceOf(ClosedError);
      const copies = everything(dst);
      expect(src.stats().groups.g.acked, `close at ${closeAt}`).toBe(copies.length);
      expect(emitted).toBe(copies.length);
      expect([...copies, ...remaining(src, 'g')]).toEqual(Array.from({ length: 12 }, (_, i) => i));
      await bus.close();
    }
  });
});

describe('publishing operators into a durable topic: a copy counts once synced', () => {
  const cases: [string, (dst: Topic<number>) => (src: Observable<Delivery<number>>) => Observable<number>][] = [
    ['forwardTo', (dst) => forwardTo(dst)],
    ['deadLetterTo', (dst) => deadLetterTo(dst)],
  ];
  for (const [name, op] of cases) {
    it(`${name}: at each ack, the copy is already on disk`, async () => {
      const dir = tempDir('ringbus-op-');
      const bus = createBus({ storage: fileStorage(dir, { fsync: 'always', intervalMs: 60_000 }) });
      const src = bus.topic<number>('src', { groups: ['g'] });
      const dst = bus.topic<number>('dst');
      await src.publishBatch([0, 1, 2, 3, 4]);
      const copies: string[] = [];
      let acks = 0;
      const seen = await new Promise<number[]>((resolve, reject) => {
        const out: number[] = [];
        src.messages({ group: 'g' }).pipe(op(dst)).subscribe({
          next: (off) => {
            out.push(off);
            acks = src.stats().groups.g.acked;
            copies.push(crashCopy(dir)); // a crash right after the ack
            if (out.length === 5) resolve(out);
          },
          error: reject,
        });
      });
      expect(seen).toEqual([0, 1, 2, 3, 4]);
      expect(acks).toBe(5);
      for (const [i, copy] of copies.entries()) expect((await onDisk(copy, 'dst')).length, `copy after ack ${i}`).toBeGreaterThanOrEqual(i + 1);
      await bus.close();
    });
  }

  it('publishTo emits an offset once its value is synced (publish-then-ack is at-least-once on disk)', async () => {
    const dir = tempDir('ringbus-op-');
    const bus = createBus({ storage: fileStorage(dir, { fsync: 'always', intervalMs: 60_000 }) });
    const dst = bus.topic<number>('dst');
    const copies: string[] = [];
    const values = new Observable<number>((s) => {
      for (let i = 0; i < 5; i++) s.next(i);
      s.complete();
    });
    const emitted: number[] = [];
    const sub = values.pipe(publishTo(dst)).subscribe((off) => {
      emitted.push(off);
      copies.push(crashCopy(dir));
    });
    expect(emitted).toEqual([]); // nothing is synced yet
    await new Promise<void>((r) => sub.add(r));
    expect(emitted).toEqual([0, 1, 2, 3, 4]);
    for (const [i, copy] of copies.entries()) expect((await onDisk(copy, 'dst')).length).toBeGreaterThanOrEqual(i + 1);
    await bus.close();
  });

  it('forwardToStream and publishToStream: at each emitted offset, the copy is on disk', async () => {
    const dir = tempDir('ringbus-op-');
    const bus = createBus({ storage: fileStorage(dir, { fsync: 'always', intervalMs: 60_000 }) });
    const src = bus.topic<number>('src', { groups: ['g'] });
    const fwd = bus.topic<number>('fwd');
    const pub = bus.topic<number>('pub');
    await src.publishBatch([0, 1, 2]);
    await src.close();
    const copies: [string, string, number][] = [];
    await src
      .readable({ group: 'g' })
      .pipeThrough(forwardToStream(fwd))
      .pipeThrough(publishToStream(pub))
      .pipeTo(new WritableStream({ write: (off) => void copies.push(['pub', crashCopy(dir), off]) }));
    expect(src.stats().groups.g.acked).toBe(3);
    for (const [name, copy, off] of copies) expect((await onDisk(copy, name)).length).toBeGreaterThanOrEqual(off + 1);
    await bus.close();
  });
});
