import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, createBus, type Consumer, type Delivery } from '../../src/index.js';
import { DEEP, SEED } from '../reliability/config.js';
import { settle, virtualTime } from '../helpers.js';
import { KeyOrder } from '../../src/internal/memory/group/key-order.js';

const MODEL_RUNS = DEEP ? 10_000 : 300;

describe("ordering: 'key'", () => {
  it('no message goes out while an earlier one of its key is unsettled in the group; other keys go to competing members', async () => {
    const t = createBus().topic<string>('t', { ordering: 'key', groups: ['g'] });
    await t.publish('a0', { key: 'a' });
    await t.publish('a1', { key: 'a' });
    await t.publish('b0', { key: 'b' });
    await t.publish('x'); // no key: unordered
    const m1 = t.consumer({ group: 'g' });
    const m2 = t.consumer({ group: 'g' });
    const a0 = m1.tryRecv();
    expect(a0?.value).toBe('a0');
    expect(m2.tryRecv()?.value).toBe('b0'); // a1 waits for a0
    expect(m2.tryRecv()?.value).toBe('x');
    expect(m2.tryRecv()).toBeUndefined();
    a0?.ack();
    const a1 = m2.tryRecv();
    expect(a1?.value).toBe('a1');
    // another group has its own keys in flight
    const other = t.consumer({ group: 'h', from: 'earliest' });
    expect([other.tryRecv()?.value, other.tryRecv()?.value]).toEqual(['a0', 'b0']);
  });

  it('a nacked or timed-out message goes out again before later messages of its key; a terminated one releases its key', async () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<string>('t', { ordering: 'key', groups: ['g'], ackTimeoutMs: 100 });
    await t.publishBatch(['k0', 'k1', 'k2'], { key: 'k' });
    const c = t.consumer({ group: 'g' });
    const first = c.tryRecv();
    first?.nack({ delayMs: 50 });
    expect(c.tryRecv()).toBeUndefined(); // k1 waits: k0 waits for its redelivery
    vt.advance(50);
    const again = c.tryRecv();
    expect([again?.value, again?.deliveryCount]).toEqual(['k0', 2]);
    vt.advance(300); // the ack timeout returns it
    const third = c.tryRecv();
    expect([third?.value, third?.deliveryCount]).toEqual(['k0', 3]);
    third?.term('poison');
    expect(c.tryRecv()?.value).toBe('k1');
    expect(t.stats().groups.g).toMatchObject({ deadLettered: 1 });
  });

  it('commit and seek release what they settle or make stale', async () => {
    const t = createBus().topic<string>('t', { ordering: 'key', groups: ['g'] });
    await t.publishBatch(['a0', 'a1', 'a2'], { key: 'a' });
    const c = t.consumer({ group: 'g' });
    expect(c.tryRecv()?.value).toBe('a0');
    c.commit(1);
    expect(c.tryRecv()?.value).toBe('a1');
    c.seek(0);
    expect(c.tryRecv()?.value).toBe('a0');
    expect(c.tryRecv()).toBeUndefined();
  });

  it('priority chooses among the keys that are free', async () => {
    const t = createBus().topic<string>('t', { ordering: 'key', priorities: 2, groups: ['g'] });
    await t.publish('a-low', { key: 'a', priority: 0 });
    await t.publish('a-high', { key: 'a', priority: 1 });
    await t.publish('b-low', { key: 'b', priority: 0 });
    const c = t.consumer({ group: 'g' });
    const got = [c.tryRecv(), c.tryRecv(), c.tryRecv()].map((d) => d?.value);
    // a-high waits for a-low (earlier, same key); b-low is free
    expect(got).toEqual(['a-low', 'b-low', undefined]);
  });

  it('the push and pull faces follow it: messages() subscribers, consume(), readable() of one group', async () => {
    const t = createBus().topic<number>('t', { ordering: 'key', groups: ['g'] });
    const keys = 5;
    const n = 60;
    const log: { key: string; value: number; event: 'in' | 'out' }[] = [];
    const open = new Map<string, number>();
    const handle = async (d: Delivery<number>): Promise<void> => {
      const k = d.key as string;
      expect(open.has(k)).toBe(false); // at most one of a key in flight in the group
      open.set(k, d.value);
      log.push({ key: k, value: d.value, event: 'in' });
      await settle();
      open.delete(k);
      log.push({ key: k, value: d.value, event: 'out' });
      d.ack();
    };
    const subs = [0, 1].map(() => t.messages({ group: 'g', prefetch: 4 }).subscribe((d) => void handle(d)));
    const pulls = (async () => {
      for await (const d of t.consume({ group: 'g', prefetch: 4 })) await handle(d);
    })();
    const reader = (async () => {
      const r = t.readable({ group: 'g', prefetch: 4 }).getReader();
      for (let x = await r.read(); !x.done; x = await r.read()) await handle(x.value);
    })();
    for (let i = 0; i < n; i++) await t.publish(i, { key: `k${i % keys}` });
    while (t.stats().groups.g.committed < n) await settle();
    await t.close();
    await Promise.all([pulls, reader]);
    for (const s of subs) s.unsubscribe();
    for (let k = 0; k < keys; k++) {
      const acked = log.filter((e) => e.key === `k${k}` && e.event === 'out').map((e) => e.value);
      expect(acked).toEqual(acked.slice().sort((a, b) => a - b));
      expect(acked.length).toBe(n / keys);
    }
  });

  it("a bad ordering is a ConfigError", () => {
    expect(() => createBus().topic('t', { ordering: 'keys' as never })).toThrow(ConfigError);
  });
});

type Op =
  | { kind: 'publish'; key: number; priority: number }
  | { kind: 'take'; member: number }
  | { kind: 'ack'; pick: number }
  | { kind: 'nack'; pick: number }
  | { kind: 'timeout' }
  | { kind: 'close'; member: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('publish' as const), key: fc.integer({ min: -1, max: 3 }), priority: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 2 }).map((member) => ({ kind: 'take' as const, member })) },
  { weight: 3, arbitrary: fc.nat(30).map((pick) => ({ kind: 'ack' as const, pick })) },
  { weight: 2, arbitrary: fc.nat(30).map((pick) => ({ kind: 'nack' as const, pick })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'timeout' as const }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 }).map((member) => ({ kind: 'close' as const, member })) },
);

describe("ordering: 'key' against its rule (fast-check)", () => {
  it('several members, random acks, nacks, timeouts and closes, with and without priorities: per key, at most one unsettled at a time and acks in offset order; everything is acked in the end', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(1, 3), fc.array(opArb, { maxLength: 100 }), async (priorities, ops) => {
        const vt = virtualTime();
        const t = createBus({ scheduler: vt.scheduler }).topic<number>('t', { ordering: 'key', priorities, groups: ['g'], ackTimeoutMs: 100, capacity: 256 });
        const members: Consumer<number>[] = [0, 1, 2].map(() => t.consumer({ group: 'g' }));
        const held: Delivery<number>[] = [];
        /** key → offsets handed out and not yet acked (a nacked or returned one stays unsettled). */
        const unsettled = new Map<string, Set<number>>();
        const lastAcked = new Map<string, number>();
        const acked = new Set<number>();
        let published = 0;
        const ack = (d: Delivery<number>): void => {
          if (!d.ack()) return; // stale: returned meanwhile
          acked.add(d.offset);
          if (d.key === undefined) return;
          expect(d.offset).toBeGreaterThan(lastAcked.get(d.key) ?? -1);
          lastAcked.set(d.key, d.offset);
          unsettled.get(d.key)?.delete(d.offset);
        };
        const took = (d: Delivery<number>): void => {
          held.push(d);
          if (d.key === undefined) return;
          const u = unsettled.get(d.key) ?? new Set<number>();
          for (const off of u) expect(off).toBe(d.offset); // nothing else of its key unsettled
          u.add(d.offset);
          unsettled.set(d.key, u);
        };
        for (const op of ops) {
          switch (op.kind) {
            case 'publish':
              expect(t.tryPublish(published, { key: op.key < 0 ? undefined : `k${op.key}`, priority: op.priority % priorities })).toBe(true);
              published++;
              break;
            case 'take': {
              const d = members[op.member].tryRecv();
              if (d !== undefined) took(d);
              break;
            }
            case 'ack':
            case 'nack': {
              const live = held.filter((d) => !d.settled);
              if (live.length === 0) break;
              const d = live[op.pick % live.length];
              if (op.kind === 'ack') ack(d);
              else d.nack();
              break;
            }
            case 'timeout':
              vt.advance(300);
              break;
            case 'close':
              await members[op.member].close();
              members[op.member] = t.consumer({ group: 'g' });
              break;
          }
        }
        // drain: whatever is left goes out, key by key in order
        const last = t.consumer({ group: 'g' });
        for (const m of members) await m.close();
        for (let guard = 0; guard < 10_000 && acked.size < published; guard++) {
          const d = last.tryRecv();
          if (d === undefined) {
            vt.advance(300);
            continue;
          }
          took(d);
          ack(d);
        }
        expect(acked.size).toBe(published);
        expect(t.stats().groups.g).toMatchObject({ committed: published, pending: 0 });
      }),
      { numRuns: MODEL_RUNS, seed: SEED },
    );
  });
});

describe('KeyOrder (the per-group map of keys in flight)', () => {
  const always = (): boolean => true;

  it('a key released with messages waiting hands it to the lowest valid one; without, it is free', () => {
    const ko = new KeyOrder();
    expect(ko.claim('a', 0)).toBe(true);
    expect(ko.claim('a', 5)).toBe(false);
    ko.wait('a', 5);
    ko.wait('a', 3); // a redelivery that found its key held goes before the later one
    ko.wait('a', 9);
    expect(ko.claim('a', 0)).toBe(true); // held by 0 already
    expect(ko.release(0, (o) => o !== 3)).toBe(5); // 3 settled meanwhile: skipped
    expect(ko.held()).toEqual([5]);
    expect(ko.claim('a', 9)).toBe(false);
    expect(ko.release(5, always)).toBe(9);
    expect(ko.release(9, always)).toBe(-1);
    expect(ko.held()).toEqual([]);
    expect(ko.claim('a', 10)).toBe(true);
    expect(ko.release(7, always)).toBe(-1); // holds nothing
  });

  it('held offsets far apart (a table slot shared) are all found again', () => {
    const ko = new KeyOrder();
    const offs = [0, 64, 128, 4096, 65_536, 2 ** 40 + 7];
    offs.forEach((o, k) => expect(ko.claim(`k${k}`, o)).toBe(true));
    expect(ko.held().sort((a, b) => a - b)).toEqual(offs);
    for (const o of offs) expect(ko.release(o, always)).toBe(-1);
    expect(ko.held()).toEqual([]);
  });

  it('free keys are swept: a million distinct keys leave a small map', () => {
    const ko = new KeyOrder();
    let refused = 0;
    for (let i = 0; i < 1_000_000; i++) {
      if (!ko.claim(`k${i}`, i)) refused++;
      if (i >= 3) ko.release(i - 3, always); // 3 held at any time
    }
    expect(refused).toBe(0);
    const keys = (ko as unknown as { keys: Map<string, unknown> }).keys;
    expect(keys.size).toBeLessThanOrEqual(1025 + 3);
    expect(ko.held().sort((a, b) => a - b)).toEqual([999_997, 999_998, 999_999]);
  });
});
