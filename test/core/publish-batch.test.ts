/**
 * `publishBatch`: refused whole when any of it cannot be accepted up front (always a rejected
 * promise, never a throw), what a store refusal leaves accepted is woken and synced, and batches
 * of entries with per-message key, headers and TTL.
 */
import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { json, msgpack } from '../../src/codec/index.js';
import { type BatchEntry, CodecError, ConfigError, createBus, type StoredMessage, StorageError, type Storage, type TopicStore } from '../../src/index.js';
import { FUZZ_RUNS, SEED } from '../reliability/config.js';
import { virtualTime } from '../helpers.js';

/** Calls `f` and tells whether it threw synchronously or returned a promise. */
function call<R>(f: () => Promise<R>): Promise<R> {
  let p: Promise<R>;
  try {
    p = f();
  } catch (e) {
    throw new Error(`threw synchronously instead of returning a rejected promise: ${String(e)}`);
  }
  return p;
}

describe('publishBatch refuses a batch it cannot encode whole', () => {
  it('[1, 2n, 3] on a codec topic: a rejected promise, nothing appended', async () => {
    const t = createBus().topic<unknown>('t', { codec: json, groups: ['g'] });
    const p = call(() => t.publishBatch([1, 2n, 3]));
    await expect(p).rejects.toBeInstanceOf(CodecError);
    expect(t.stats()).toMatchObject({ tail: 0, published: 0 });
  });

  it('property: any batch with unencodable elements appends nothing and rejects; without, appends all', async () => {
    const element = fc.oneof(
      { weight: 6, arbitrary: fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 })) },
      { weight: 1, arbitrary: fc.oneof(fc.bigInt().map((b) => b as unknown), fc.constant<unknown>(Symbol('s')), fc.constant<unknown>(() => 1)) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(element, { maxLength: 12 }), fc.constantFrom(json, msgpack), fc.boolean(), async (batch, codec, entries) => {
        const t = createBus().topic<unknown>('t', { codec, groups: ['g'] });
        const c = t.consumer({ group: 'g' });
        const waiting = c.recv();
        await t.publishBatch(['first']);
        expect((await waiting)?.value).toBe('first');
        const encodable = batch.every((v) => {
          try {
            codec.encode(v);
            return true;
          } catch {
            return false;
          }
        });
        const p = entries ? call(() => t.publishBatch(batch.map((value) => ({ value })), { entries: true })) : call(() => t.publishBatch(batch));
        if (encodable) {
          await expect(p).resolves.toEqual(batch.map((_, i) => i + 1));
          expect(t.tail).toBe(1 + batch.length);
        } else {
          await expect(p).rejects.toBeInstanceOf(CodecError);
          expect(t.tail).toBe(1);
        }
      }),
      { numRuns: Math.min(FUZZ_RUNS, 5_000), seed: SEED },
    );
  });

  it('bad options and bad entries reject without appending', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    await expect(call(() => t.publishBatch([1, 2], { ttlMs: -1 }))).rejects.toBeInstanceOf(ConfigError);
    await expect(call(() => t.publishBatch([{ value: 1 }, { value: 2, key: 7 as unknown as string }], { entries: true }))).rejects.toThrow(/entries\[1\]\.key/);
    await expect(call(() => t.publishBatch([{ value: 1 }, 2 as never], { entries: true }))).rejects.toThrow(/entries\[1\]/);
    await expect(call(() => t.publishBatch([{ value: 1, ttl: 5 } as never], { entries: true }))).rejects.toThrow(/ttl/);
    await expect(call(() => t.publishBatch(7 as never))).rejects.toBeInstanceOf(ConfigError);
    expect(t.tail).toBe(0);
  });
});

describe('publishBatch after a store refusal', () => {
  /** A memory store that refuses the `refuseAt`-th append (0-based) with a StorageError. */
  function refusingStorage(refuseAt: number): Storage & { synced: number[] } {
    const synced: number[] = [];
    const refusing: Storage & { synced: number[] } = {
      name: 'refusing',
      synced,
      open: (topic) => Promise.resolve(refusing.openSync!(topic)),
      openSync() {
        let n = 0;
        let appended = 0;
        return {
          recovered: { tail: 0, messages: [], groups: [] },
          append(_m: StoredMessage) {
            if (n++ === refuseAt) throw new StorageError('disk full (test)');
            appended++;
          },
          group() {},
          evicted() {},
          sync() {
            synced.push(appended);
            return Promise.resolve();
          },
          close: () => Promise.resolve(),
          destroy: () => Promise.resolve(),
        };
      },
    };
    return refusing;
  }

  it('keeps what went in before the refusal: woken consumers, synced before the promise rejects', async () => {
    const storage = refusingStorage(2);
    const t = createBus({ storage }).topic<number>('t', { groups: ['g'] });
    const c = t.consumer({ group: 'g' });
    const waiting = c.recv();
    const p = call(() => t.publishBatch([10, 11, 12, 13]));
    await expect(p).rejects.toBeInstanceOf(StorageError);
    expect(storage.synced).toEqual([2]); // both accepted messages synced before the rejection
    expect(t.tail).toBe(2);
    expect((await waiting)?.value).toBe(10); // woken by the batch, not by a later publish
  });
});

describe('publishBatch with entries', () => {
  it('gives each message its own key, headers and TTL; the batch options are the defaults', async () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<string>('t', { groups: ['g'] });
    const offsets = await t.publishBatch(
      [
        { value: 'a', key: 'k1', headers: { h: '1' } },
        { value: 'b' },
        { value: 'c', ttlMs: 10 },
      ],
      { entries: true, key: 'default', headers: { from: 'batch' } },
    );
    expect(offsets).toEqual([0, 1, 2]);
    const c = t.consumer({ group: 'g' });
    const got = [c.tryRecv(), c.tryRecv(), c.tryRecv()].map((d) => ({ value: d?.value, key: d?.key, headers: d?.headers }));
    expect(got).toEqual([
      { value: 'a', key: 'k1', headers: { h: '1' } },
      { value: 'b', key: 'default', headers: { from: 'batch' } },
      { value: 'c', key: 'default', headers: { from: 'batch' } },
    ]);
    c.seek(0);
    vt.advance(11); // 'c' expires
    const again = [c.tryRecv(), c.tryRecv(), c.tryRecv()].map((d) => d?.value);
    expect(again).toEqual(['a', 'b', undefined]);
  });

  it('is typed: entries only with { entries: true }, values only without', () => {
    const t = createBus().topic<{ id: number }>('typed');
    const entries: BatchEntry<{ id: number }>[] = [{ value: { id: 1 }, key: 'a' }];
    expectTypeOf(t.publishBatch(entries, { entries: true })).toEqualTypeOf<Promise<number[]>>();
    expectTypeOf(t.publishBatch([{ id: 1 }], { key: 'k' })).toEqualTypeOf<Promise<number[]>>();
    // @ts-expect-error a batch of entries needs `entries: true`
    void t.publishBatch(entries).catch(() => {});
    // @ts-expect-error with `entries: true` every element is an entry
    void t.publishBatch([{ id: 1 }], { entries: true }).catch(() => {});
  });

  it('entries that wait for room keep their own settings', async () => {
    const t = createBus().topic<string>('t', { capacity: 1, groups: ['g'] });
    const p = t.publishBatch(
      [
        { value: 'a', key: 'ka' },
        { value: 'b', key: 'kb' },
      ],
      { entries: true },
    );
    const c = t.consumer({ group: 'g' });
    const first = await c.recv();
    first?.ack();
    const second = await c.recv();
    await expect(p).resolves.toEqual([0, 1]);
    expect([first?.key, second?.key]).toEqual(['ka', 'kb']);
  });
});
