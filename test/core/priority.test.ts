import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, createBus, type Delivery } from '../../src/index.js';
import { DEEP, SEED } from '../reliability/config.js';
import { fileStorage } from '../../src/node/index.js';
import { settle, virtualTime } from '../helpers.js';
import { cleanTempDirs, tempDir } from '../node/helpers.js';

const MODEL_RUNS = DEEP ? 10_000 : 400;

afterEach(cleanTempDirs);

describe('priorities', () => {
  it('first deliveries go highest level first, offset order within a level; redeliveries go first', async () => {
    const t = createBus().topic<string>('t', { priorities: 3, groups: ['g'] });
    await t.publish('a1', { priority: 1 });
    await t.publish('b0', { priority: 0 });
    await t.publish('c2', { priority: 2 });
    await t.publish('d'); // the middle level: 1
    await t.publish('e2', { priority: 2 });
    const c = t.consumer({ group: 'g' });
    const first = c.tryRecv();
    expect(first?.value).toBe('c2');
    first?.nack();
    const order: string[] = [];
    for (let d = c.tryRecv(); d !== undefined; d = c.tryRecv()) {
      order.push(`${d.value}@${d.deliveryCount}`);
      d.ack();
    }
    expect(order).toEqual(['c2@2', 'e2@1', 'a1@1', 'd@1', 'b0@1']);
    expect(t.stats().groups.g).toMatchObject({ committed: 5, lag: 0, pending: 0 });
    expect(t.stats().priorities).toEqual([
      { size: 1, published: 1, delivered: 1 },
      { size: 2, published: 2, delivered: 2 },
      { size: 2, published: 2, delivered: 2 },
    ]);
  });

  it('maxConsecutive: after that many from one level while a lower level waits, the highest lower waiting level gets one', async () => {
    const t = createBus().topic<string>('t', { priorities: 3, maxConsecutive: 2, groups: ['g'], capacity: 64 });
    for (let i = 0; i < 6; i++) await t.publish(`h${i}`, { priority: 2 });
    for (let i = 0; i < 3; i++) await t.publish(`m${i}`, { priority: 1 });
    await t.publish('l0', { priority: 0 });
    const c = t.consumer({ group: 'g' });
    const got = (await c.recvBatch(20)).map((d) => (d.ack(), d.value));
    // level 1 gets one after each two of level 2; level 0 gets one once level 1 has had two in a row
    expect(got).toEqual(['h0', 'h1', 'm0', 'h2', 'h3', 'm1', 'h4', 'h5', 'l0', 'm2']);
  });

  it('every face follows the order: recvBatch, messages(), values(), readable(), consume()', async () => {
    const t = createBus().topic<number>('t', { priorities: 4, maxConsecutive: 2 });
    const faces = ['batch', 'messages', 'values', 'readable', 'consume'];
    const consumers = faces.map((g) => t.consumer({ group: g })); // the groups exist before the publishes
    const levels = [0, 3, 1, 3, 3, 2, 3, 0, 2];
    for (let i = 0; i < levels.length; i++) await t.publish(i, { priority: levels[i] });
    for (const c of consumers) await c.close();
    await t.close();
    const seen: Record<string, number[]> = {};
    seen.batch = (await t.consumer({ group: 'batch' }).recvBatch(100)).map((d) => (d.ack(), d.value));
    seen.messages = [];
    t.messages({ group: 'messages' }).subscribe((d) => (seen.messages.push(d.value), d.ack()));
    seen.values = [];
    t.values({ group: 'values' }).subscribe((v) => seen.values.push(v));
    seen.readable = [];
    const reader = t.readable({ group: 'readable' }).getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      seen.readable.push(r.value.value);
      r.value.ack();
    }
    seen.consume = [];
    for await (const d of t.consume({ group: 'consume' })) {
      seen.consume.push(d.value);
      d.ack();
    }
    await settle();
    const order = [1, 3, 5, 4, 6, 8, 2, 0, 7];
    expect(seen).toEqual({ batch: order, messages: order, values: order, readable: order, consume: order });
  });

  it('a live subscriber gets each publish at once while nothing waits, and the backlog by level once it is behind', async () => {
    const t = createBus().topic<string>('t', { priorities: 3, maxConsecutive: 1, groups: ['g'] });
    const got: Delivery<string>[] = [];
    const sub = t.messages({ group: 'g', prefetch: 1 }).subscribe((d) => got.push(d));
    await t.publish('first', { priority: 0 }); // nothing waits: handed out at once
    expect(got.map((d) => d.value)).toEqual(['first']);
    await t.publish('low', { priority: 0 });
    await t.publish('high', { priority: 2 });
    await t.publish('high2', { priority: 2 });
    await t.publish('mid', { priority: 1 });
    for (let i = 0; i < 5 && got.length > 0; i++) {
      got[got.length - 1].ack();
      await settle();
    }
    expect(got.map((d) => d.value)).toEqual(['first', 'high', 'mid', 'high2', 'low']);
    const seen: string[] = [];
    const v = t.values({ group: 'v', from: 'latest' }).subscribe((x) => seen.push(x));
    for (const [x, p] of [['a', 0], ['b', 2], ['c', 1]] as const) await t.publish(x, { priority: p });
    expect(seen).toEqual(['a', 'b', 'c']); // each went out as it came: nothing waited
    // g: first, high, mid, high2, low, then a (b and c wait behind it); v: a, b, c
    expect(t.stats().priorities?.map((l) => l.delivered)).toEqual([4, 2, 3]);
    sub.unsubscribe();
    v.unsubscribe();
  });

  it('delayed messages of a prioritized topic join their level when due', async () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<string>('t', { priorities: 2, groups: ['g'] });
    await t.publish('low', { priority: 0 });
    await t.publish('high-later', { priority: 1, delayMs: 10 });
    const c = t.consumer({ group: 'g' });
    await t.publish('low2', { priority: 0 });
    vt.advance(10);
    expect((await c.recvBatch(5)).map((d) => d.value)).toEqual(['high-later', 'low', 'low2']);
  });

  it('a durable topic keeps the level of every message across a restart', async () => {
    const dir = tempDir();
    const bus = createBus({ storage: fileStorage(dir, { fsync: 'never' }) });
    const t = bus.topic<string>('t', { priorities: 3, groups: ['g'] });
    await t.publish('low', { priority: 0 });
    await t.publish('mid');
    await t.publish('high', { priority: 2 });
    await bus.close();
    const again = createBus({ storage: fileStorage(dir, { fsync: 'never' }) });
    const t2 = again.topic<string>('t', { priorities: 3, groups: ['g'] });
    expect((await t2.consumer({ group: 'g' }).recvBatch(5)).map((d) => d.value)).toEqual(['high', 'mid', 'low']);
    await again.close();
  });

  it('bad options are a ConfigError naming the option; publish rejects, nothing is published', async () => {
    const bus = createBus();
    for (const o of [{ priorities: 0 }, { priorities: 256 }, { priorities: 1.5 }, { maxConsecutive: 0 }, { maxConsecutive: 2.5 }]) {
      expect(() => bus.topic(`t${Object.values(o)[0]}`, o)).toThrow(ConfigError);
    }
    const t = bus.topic<number>('t', { priorities: 3 });
    await expect(t.publish(1, { priority: 3 })).rejects.toThrow(/`priority` must be an integer from 0 to 2/);
    await expect(t.publish(1, { priority: -1 })).rejects.toBeInstanceOf(ConfigError);
    expect(() => t.tryPublish(1, { priority: 5 })).toThrow(ConfigError);
    await expect(t.publishBatch([{ value: 1 }, { value: 2, priority: 9 }], { entries: true })).rejects.toThrow(/entries\[1\]\.priority/);
    await expect(createBus().topic('p').publish(1, { priority: 1 })).rejects.toThrow(/priorities: 1/);
    expect(t.stats().published).toBe(0);
  });

  it('publish options are the keys for...in lists: inherited ones count, an own unknown one is a ConfigError, on the priority path too', async () => {
    const t = createBus().topic<string>('t', { priorities: 3, groups: ['g'] });
    const inherited = Object.create({ priority: 2 }) as { priority?: number };
    expect(t.tryPublish('inherited 2', inherited)).toBe(true);
    expect(t.tryPublish('own 0', { priority: 0 })).toBe(true);
    expect(t.tryPublish('0 with a key', { priority: 0, key: 'k' })).toBe(true);
    const hidden = Object.defineProperty({}, 'priority', { value: 2, enumerable: false });
    expect(t.tryPublish('hidden: the middle level', hidden)).toBe(true);
    expect(() => t.tryPublish('typo', { priority: 1, prio: 2 } as never)).toThrow(/`prio` is not an option of publish options/);
    await expect(t.publish('typo', { prio: 2 } as never)).rejects.toThrow(/`prio` is not an option/);
    expect(t.tryPublish('own wins', Object.assign(Object.create({ priority: 0, extra: 1 }), { priority: 2 }))).toBe(true);
    const c = t.consumer({ group: 'g' });
    const got = (await c.recvBatch(10)).map((d) => d.value);
    expect(got).toEqual(['inherited 2', 'own wins', 'hidden: the middle level', 'own 0', '0 with a key']);
    expect(t.stats().priorities?.map((p) => p.published)).toEqual([2, 1, 2]);
  });
});

describe('a topic without priorities, published with priority 0', () => {
  it('takes the plain path: delivered in order with the messages around it, an unknown option still a ConfigError', async () => {
    const t = createBus().topic<number>('plain', { groups: ['g'] });
    const got: number[] = [];
    const sub = t.messages({ group: 'g' }).subscribe((d) => {
      got.push(d.value);
      d.ack();
    });
    expect(t.tryPublish(0, { priority: 0 })).toBe(true);
    expect(t.tryPublish(1)).toBe(true);
    expect(t.tryPublish(2, { priority: 0 })).toBe(true);
    expect(() => t.tryPublish(3, { priority: 0, prio: 1 } as never)).toThrow(/`prio` is not an option of publish options/);
    expect(() => t.tryPublish(3, { priority: 1 })).toThrow(/priorities: 1/);
    expect(got).toEqual([0, 1, 2]);
    expect(t.stats().published).toBe(3);
    expect(t.stats().priorities).toBeUndefined();
    sub.unsubscribe();
  });
});

// ---- the model ------------------------------------------------------------------------------

type Op =
  | { kind: 'publish'; level: number }
  | { kind: 'burst'; n: number }
  | { kind: 'take' }
  | { kind: 'ack'; pick: number }
  | { kind: 'nack'; pick: number }
  | { kind: 'timeout' }
  | { kind: 'seek'; to: number }
  | { kind: 'commit'; to: number };

/**
 * The order as plainly as it can be said: a retained log with a drop-oldest capacity, one group
 * with its settled, held and returned offsets, and the fair-queuing runs.
 */
class Model {
  head = 0;
  tail = 0;
  readonly level = new Map<number, number>();
  readonly settled = new Set<number>();
  readonly held = new Set<number>();
  readonly returned = new Set<number>();
  /** Offsets handed out since the last seek (never first deliveries again). */
  readonly handed = new Set<number>();
  run: number[];

  constructor(
    readonly levels: number,
    readonly k: number,
    readonly capacity: number,
  ) {
    this.run = new Array<number>(levels).fill(0);
  }

  publish(level: number): void {
    if (this.tail - this.head === this.capacity) this.evictHead();
    this.level.set(this.tail, level);
    this.tail++;
  }

  private evictHead(): void {
    const off = this.head++;
    this.level.delete(off);
    this.held.delete(off);
    this.returned.delete(off);
    this.settled.add(off);
  }

  /** The offset the next take hands out, or undefined. */
  take(): number | undefined {
    if (this.returned.size > 0) {
      const off = Math.min(...this.returned);
      this.returned.delete(off);
      this.held.add(off);
      return off;
    }
    const waiting: number[][] = Array.from({ length: this.levels }, () => []);
    for (let off = this.head; off < this.tail; off++) {
      if (!this.settled.has(off) && !this.handed.has(off)) waiting[this.level.get(off) as number].push(off);
    }
    let l = this.levels - 1;
    while (l >= 0 && waiting[l].length === 0) l--;
    if (l < 0) return undefined;
    for (;;) {
      if (this.run[l] < this.k) break;
      let lower = l - 1;
      while (lower >= 0 && waiting[lower].length === 0) lower--;
      if (lower < 0) break;
      l = lower;
    }
    this.run[l]++;
    for (let up = l + 1; up < this.levels; up++) this.run[up] = 0;
    const off = waiting[l][0];
    this.handed.add(off);
    this.held.add(off);
    return off;
  }

  /** Settles everything below `to` (never back). */
  commit(to: number): void {
    const x = Math.min(to, this.tail);
    for (let off = this.head; off < x; off++) {
      this.settled.add(off);
      this.held.delete(off);
      this.returned.delete(off);
    }
  }

  seek(to: number): void {
    const x = Math.max(this.head, Math.min(to, this.tail));
    this.held.clear();
    this.returned.clear();
    this.handed.clear();
    this.settled.clear();
    for (let off = 0; off < x; off++) this.settled.add(off);
    this.run.fill(0);
  }
}

const opArb = (levels: number): fc.Arbitrary<Op> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: levels - 1 }).map((level) => ({ kind: 'publish' as const, level })) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 8 }).map((n) => ({ kind: 'burst' as const, n })) },
    { weight: 5, arbitrary: fc.constant({ kind: 'take' as const }) },
    { weight: 3, arbitrary: fc.nat(50).map((pick) => ({ kind: 'ack' as const, pick })) },
    { weight: 2, arbitrary: fc.nat(50).map((pick) => ({ kind: 'nack' as const, pick })) },
    { weight: 1, arbitrary: fc.constant({ kind: 'timeout' as const }) },
    { weight: 1, arbitrary: fc.nat(40).map((to) => ({ kind: 'seek' as const, to })) },
    { weight: 1, arbitrary: fc.nat(40).map((to) => ({ kind: 'commit' as const, to })) },
  );

const programArb = fc
  .record({ levels: fc.integer({ min: 2, max: 4 }), k: fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 3 })), capacity: fc.integer({ min: 4, max: 64 }) })
  .chain((p) => fc.record({ levels: fc.constant(p.levels), k: fc.constant(p.k), capacity: fc.constant(p.capacity), ops: fc.array(opArb(p.levels), { maxLength: 120 }) }));

describe('priorities: the order against a reference model (fast-check)', () => {
  it('every take hands out what the model says, with nacks, ack timeouts, commits, seeks and drop-oldest overflow, strict and fair', () => {
    fc.assert(
      fc.property(programArb, ({ levels, k, capacity, ops }) => {
        const vt = virtualTime();
        const ackTimeoutMs = 100;
        const t = createBus({ scheduler: vt.scheduler }).topic<number>('t', { priorities: levels, maxConsecutive: k, capacity, overflow: 'drop-oldest', groups: ['g'], ackTimeoutMs });
        const c = t.consumer({ group: 'g', prefetch: 1 << 20 });
        const m = new Model(levels, k, capacity);
        const held: Delivery<number>[] = [];
        const pickHeld = (pick: number): Delivery<number> | undefined => {
          const live = held.filter((d) => m.held.has(d.offset) && !d.settled);
          return live.length === 0 ? undefined : live[pick % live.length];
        };
        for (const op of ops) {
          switch (op.kind) {
            case 'publish':
              expect(t.tryPublish(m.tail, { priority: op.level })).toBe(true);
              m.publish(op.level);
              break;
            case 'burst': // n of every level, highest first: a backlog where fairness matters
              for (let i = 0; i < op.n; i++) {
                for (let l = levels - 1; l >= 0; l--) {
                  expect(t.tryPublish(m.tail, { priority: l })).toBe(true);
                  m.publish(l);
                }
              }
              break;
            case 'take': {
              const d = c.tryRecv();
              expect(d?.offset).toBe(m.take());
              if (d !== undefined) held.push(d);
              break;
            }
            case 'ack':
            case 'nack': {
              const d = pickHeld(op.pick);
              if (d === undefined) break;
              m.held.delete(d.offset);
              if (op.kind === 'ack') {
                d.ack();
                m.settled.add(d.offset);
              } else {
                d.nack();
                m.returned.add(d.offset);
              }
              break;
            }
            case 'timeout':
              vt.advance(ackTimeoutMs * 2);
              for (const off of m.held) m.returned.add(off);
              m.held.clear();
              break;
            case 'commit':
              c.commit(op.to);
              m.commit(op.to);
              break;
            case 'seek':
              c.seek(op.to);
              m.seek(op.to);
              held.length = 0;
              break;
          }
        }
      }),
      { numRuns: MODEL_RUNS, seed: SEED },
    );
  });

  it('starvation is impossible with maxConsecutive finite: a waiting message goes out within (k + 1)^(levels - 1) takes while every higher level stays full', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 3 }), (levels, k, lowIn) => {
        const low = lowIn % (levels - 1);
        const t = createBus().topic<string>('t', { priorities: levels, maxConsecutive: k, capacity: 1 << 16, groups: ['g'] });
        const c = t.consumer({ group: 'g' });
        t.tryPublish('waiting', { priority: low });
        const bound = (k + 1) ** (levels - 1 - low);
        for (let i = 1; i <= bound; i++) {
          for (let l = low + 1; l < levels; l++) t.tryPublish('busy', { priority: l });
          const d = c.tryRecv();
          d?.ack();
          if (d?.value === 'waiting') return;
        }
        throw new Error(`level ${low} of ${levels} (maxConsecutive ${k}) waited more than ${bound} takes`);
      }),
      { numRuns: MODEL_RUNS, seed: SEED },
    );
  });
});
