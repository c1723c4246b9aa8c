import { describe, expect, it } from 'vitest';
import { ConfigError, createBus, TimeoutError, type Consumer } from '../../src/index.js';
import { virtualTime } from '../helpers.js';

/** Every way a consumer ends up closed. */
const CLOSERS: [string, (bus: ReturnType<typeof createBus>, c: Consumer<number>) => Promise<unknown> | void][] = [
  ['close()', (_bus, c) => c.close()],
  ['deleteGroup', (bus) => void bus.topic('t').deleteGroup('g')],
  ['bus.deleteTopic', (bus) => bus.deleteTopic('t')],
];

describe('a closed consumer: one rule, as a drained stream', () => {
  it.each(CLOSERS)('closed by %s: reads answer "nothing more", commit and seek return false and do nothing', async (_how, closeIt) => {
    const bus = createBus();
    const t = bus.topic<number>('t', { groups: ['g'] });
    await t.publishBatch([1, 2, 3]);
    const c = t.consumer({ group: 'g' });
    await closeIt(bus, c);
    expect(c.closed).toBe(true);
    expect(c.tryRecv()).toBeUndefined();
    expect(await c.recv()).toBeUndefined();
    expect(await c.recvTimeout(10)).toBeUndefined();
    expect(await c.recvBatch(5)).toEqual([]);
    const seen: unknown[] = [];
    for await (const d of c) seen.push(d);
    expect(seen).toEqual([]);
    const committed = bus.has('t') ? t.stats().groups.g?.committed : undefined;
    expect(c.commit(2)).toBe(false);
    expect(c.seek(0)).toBe(false);
    if (bus.has('t')) expect(t.stats().groups.g?.committed).toBe(committed); // nothing done
    // bad arguments are still errors, checked first
    expect(() => c.commit(-1)).toThrow(ConfigError);
    expect(() => c.seek(1.5)).toThrow(ConfigError);
  });

  it('an open consumer: commit and seek return true', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    await t.publishBatch([1, 2, 3]);
    const c = t.consumer({ group: 'g' });
    expect(c.commit(2)).toBe(true);
    expect(t.stats().groups.g.committed).toBe(2);
    expect(c.seek(0)).toBe(true);
  });

  it('a consumer closed by its signal rejects waits with the signal reason', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    const ac = new AbortController();
    const c = t.consumer({ group: 'g', signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(c.recv()).rejects.toThrow('stop');
    expect(c.commit(0)).toBe(false);
  });

  it('recvTimeout resolves undefined when nothing arrives in time; no TimeoutError', async () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<number>('t', { groups: ['g'] });
    const c = t.consumer({ group: 'g' });
    const p = c.recvTimeout(500).catch((e: unknown) => e);
    vt.advance(500);
    const r = await p;
    expect(r).toBeUndefined();
    expect(r).not.toBeInstanceOf(TimeoutError);
    expect(await c.recvTimeout(0)).toBeUndefined(); // 0 never waits
  });
});
