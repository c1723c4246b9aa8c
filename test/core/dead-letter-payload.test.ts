/**
 * What a dead letter carries (the source's value, whatever the two topics' codecs), and the
 * order in which a dead letter to a durable topic becomes durable: the copy before the settle.
 */
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CodecError, createBus } from '../../src/index.js';
import { bytes, type Codec, decodeFrame, encodeFrame, json, msgpack } from '../../src/codec/index.js';
import { fileStorage } from '../../src/node/index.js';
import { cleanTempDirs, tempDir } from '../node/helpers.js';
import { DEAD_LETTER_RUNS, SEED, TIMEOUT } from '../reliability/config.js';

afterAll(() => cleanTempDirs());

interface Invoice {
  id: number;
  lines: { sku: string; qty: number }[];
}
const invoice: Invoice = { id: 7, lines: [{ sku: 'a-1', qty: 2 }] };

const broken: Codec<Invoice> = {
  name: 'broken',
  contentType: 'application/x-broken',
  id: 200,
  encode: (v) => new TextEncoder().encode(JSON.stringify(v)),
  decode: () => {
    throw new Error('cannot read this');
  },
};

/** A dead letter of `invoice` termed on `source`, read back from `dlq` (group 'ops'). */
function termed<S, D>(sourceCodec: Codec<S> | undefined, dlqCodec: Codec<D> | undefined, value: unknown = invoice) {
  const bus = createBus();
  const dlq = bus.topic<unknown>('dlq', { groups: ['ops'], codec: dlqCodec as Codec<unknown> | undefined });
  const t = bus.topic<unknown>('t', { groups: ['g'], codec: sourceCodec as Codec<unknown> | undefined, deadLetter: 'dlq' });
  t.tryPublish(value, { key: 'k', headers: { h: '1' } });
  const d = t.consumer({ group: 'g' }).tryRecv()!;
  expect(d.term('bad')).toBe(true);
  const dl = dlq.consumer({ group: 'ops' }).tryRecv()!;
  return { dl, source: t, dlq };
}

describe('dead letters carry the value a consumer of the source gets', () => {
  for (const [name, s, d] of [
    ['msgpack → msgpack', msgpack, msgpack],
    ['json → json', json, json],
    ['msgpack → json', msgpack, json],
    ['json → msgpack', json, msgpack],
    ['msgpack → none', msgpack, undefined],
    ['none → msgpack', undefined, msgpack],
    ['none → none', undefined, undefined],
  ] as const) {
    it(`${name}: the value, key and headers`, () => {
      const { dl } = termed(s, d);
      expect(dl.value).toEqual(invoice);
      expect(dl.value).not.toBeInstanceOf(Uint8Array);
      expect(dl.key).toBe('k');
      expect(dl.headers).toMatchObject({ h: '1', 'x-dead-letter-reason': 'terminated', 'x-dead-letter-detail': 'bad' });
      expect(dl.headers['x-dead-letter-payload']).toBeUndefined();
    });
  }

  it('max-deliveries on a codec topic carries the value too', () => {
    const bus = createBus();
    const dlq = bus.topic<Invoice>('dlq', { groups: ['ops'], codec: msgpack });
    const t = bus.topic<Invoice>('t', { groups: ['g'], codec: msgpack, deadLetter: 'dlq', maxDeliveries: 2 });
    t.tryPublish(invoice);
    const c = t.consumer({ group: 'g' });
    c.tryRecv()!.nack();
    c.tryRecv()!.nack();
    const dl = dlq.consumer({ group: 'ops' }).tryRecv()!;
    expect(dl.value).toEqual(invoice);
    expect(dl.headers['x-dead-letter-reason']).toBe('max-deliveries');
  });

  it('a dead letter is decoded afresh from the frame: what the consumer did to its copy does not leak', () => {
    const bus = createBus();
    const dlq = bus.topic<Invoice>('dlq', { groups: ['ops'] });
    const t = bus.topic<Invoice>('t', { groups: ['g'], codec: json, deadLetter: 'dlq' });
    t.tryPublish(invoice);
    const d = t.consumer({ group: 'g' }).tryRecv()!;
    d.value.id = 99;
    d.term();
    expect(dlq.consumer({ group: 'ops' }).tryRecv()!.value).toEqual(invoice);
  });

  it('a message that failed to decode goes as its raw frame, marked x-dead-letter-payload: bytes', () => {
    for (const dlqCodec of [undefined, msgpack, json]) {
      const bus = createBus();
      const dlq = bus.topic<unknown>('dlq', { groups: ['ops'], codec: dlqCodec as Codec<unknown> | undefined });
      const t = bus.topic<Invoice>('t', { groups: ['g'], codec: json, deadLetter: 'dlq' });
      t.tryPublish(invoice, { codec: broken });
      expect(t.consumer({ group: 'g' }).tryRecv()).toBeUndefined();
      const dl = dlq.consumer({ group: 'ops' }).tryRecv()!;
      expect(dl.headers['x-dead-letter-reason']).toBe('decode-error');
      expect(dl.headers['x-dead-letter-payload']).toBe('bytes');
      expect(dl.value).toBeInstanceOf(Uint8Array);
      // the source's frame, byte for byte: decodable with the codec that wrote it
      expect(decodeFrame(dl.value as Uint8Array, { codecs: [json, { ...broken, decode: (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) }] })).toEqual(invoice);
    }
  });

  it('a value the dead-letter topic cannot encode goes as the source frame; without a source codec it is dropped and counted', () => {
    const bus = createBus();
    // the `bytes` codec takes only Uint8Arrays
    const dlq = bus.topic<unknown>('dlq', { groups: ['ops'], codec: bytes as Codec<unknown> });
    const t = bus.topic<Invoice>('t', { groups: ['g'], codec: json, deadLetter: 'dlq' });
    t.tryPublish(invoice);
    t.consumer({ group: 'g' }).tryRecv()!.term();
    const got = dlq.consumer({ group: 'ops' }).tryRecv()!;
    expect(got.headers['x-dead-letter-payload']).toBe('bytes');
    expect(decodeFrame(got.value as Uint8Array)).toEqual(invoice);

    const plain = bus.topic<Invoice>('plain', { groups: ['g'], deadLetter: 'dlq' });
    plain.tryPublish(invoice);
    expect(plain.consumer({ group: 'g' }).tryRecv()!.term()).toBe(true);
    expect(plain.stats().deadLetterDropped).toBe(1);
    expect(plain.stats().groups.g).toMatchObject({ pending: 0, committed: 1 });
  });
});

/** True when `codec` can encode `value` (msgpack refuses an own `__proto__` key, for one). */
function encodes(codec: Codec<unknown>, value: unknown): boolean {
  try {
    encodeFrame(value, { codec });
    return true;
  } catch {
    return false;
  }
}

describe('property: a dead letter is what a consumer of the source got', () => {
  it('any JSON value, any pair of codecs (or none), by term or by maxDeliveries', () => {
    const codecs = [undefined, json, msgpack] as const;
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(...codecs), fc.constantFrom(...codecs), fc.boolean(), (raw, sourceCodec, dlqCodec, byTerm) => {
        const value = JSON.parse(JSON.stringify(raw)) as unknown; // -0 and the like as JSON has them
        const bus = createBus();
        const dlq = bus.topic<unknown>('dlq', { groups: ['ops'], codec: dlqCodec as Codec<unknown> | undefined });
        const t = bus.topic<unknown>('t', { groups: ['g'], codec: sourceCodec as Codec<unknown> | undefined, deadLetter: 'dlq', maxDeliveries: 2 });
        if (sourceCodec !== undefined && !encodes(sourceCodec, value)) {
          // a value the source codec cannot carry is refused at publish, and nothing is accepted
          expect(() => t.tryPublish(value)).toThrow(CodecError);
          expect(t.stats().published).toBe(0);
          return;
        }
        t.tryPublish(value);
        const c = t.consumer({ group: 'g' });
        const d = c.tryRecv()!;
        const got = d.value;
        if (byTerm) d.term();
        else {
          d.nack();
          c.tryRecv()!.nack();
        }
        expect(t.stats().groups.g).toMatchObject({ pending: 0, committed: 1, deadLettered: 1 });
        const dl = dlq.consumer({ group: 'ops' }).tryRecv();
        if (dlqCodec !== undefined && !encodes(dlqCodec, got)) {
          // what the dead-letter codec refuses goes as the source's frame, or is dropped without one
          if (sourceCodec === undefined) expect([dl, t.stats().deadLetterDropped]).toEqual([undefined, 1]);
          else expect([dl?.headers['x-dead-letter-payload'], decodeFrame(dl?.value as Uint8Array)]).toEqual(['bytes', got]);
          return;
        }
        expect(dl, 'a dead letter').toBeDefined();
        expect(dl!.headers['x-dead-letter-payload']).toBeUndefined();
        expect(dl!.value).toEqual(got);
      }),
      { numRuns: DEAD_LETTER_RUNS, seed: SEED },
    );
  }, TIMEOUT);
});

/** A copy of `dir` as a SIGKILL would leave it now: what was written, without the lock. */
function crashCopy(dir: string): string {
  const copy = tempDir('ringbus-dl-copy-');
  cpSync(dir, copy, { recursive: true });
  rmSync(join(copy, 'LOCK'), { force: true });
  return copy;
}

describe('a dead letter to a durable topic is durable before the source settle is', () => {
  it('term, then an awaited publish on the source, then a crash: the message is in the dead-letter topic or still in the source', async () => {
    for (const fsync of ['always', 'interval'] as const) {
      const dir = tempDir('ringbus-dl-');
      const bus = createBus({ storage: fileStorage(dir, { fsync, intervalMs: 60_000 }) });
      const dlq = bus.topic<string>('dlq', { groups: ['ops'] });
      const t = bus.topic<string>('t', { groups: ['g'], deadLetter: 'dlq' });
      void dlq;
      await t.publish('poison');
      const d = t.consumer({ group: 'g' }).tryRecv()!;
      expect(d.term('poison')).toBe(true);
      await t.publish('next'); // its sync makes whatever the source journaled so far durable
      const copy = crashCopy(dir);
      await bus.close();

      const after = createBus({ storage: fileStorage(copy) });
      const dlq2 = after.topic<string>('dlq', { groups: ['ops'] });
      const t2 = after.topic<string>('t', { groups: ['g'], deadLetter: 'dlq' });
      const inDlq = dlq2.consumer({ group: 'ops' }).tryRecv()?.value;
      const back = t2.consumer({ group: 'g' }).tryRecv()?.value;
      expect([inDlq, back], fsync).toContain('poison');
      await after.close();
    }
  });

  it('the source settles only once the copy is synced', async () => {
    const dir = tempDir('ringbus-dl-');
    const bus = createBus({ storage: fileStorage(dir) });
    const dlq = bus.topic<string>('dlq', { groups: ['ops'] });
    const t = bus.topic<string>('t', { groups: ['g'], deadLetter: 'dlq' });
    await t.publish('poison');
    t.consumer({ group: 'g' }).tryRecv()!.term();
    expect(dlq.stats().tail).toBe(1); // in the dead-letter topic at once
    expect(t.stats().groups.g).toMatchObject({ pending: 1, committed: 0 }); // settled once synced
    await dlq.publish('barrier');
    await Promise.resolve();
    expect(t.stats().groups.g).toMatchObject({ pending: 0, committed: 1, deadLettered: 1 });
    await bus.close();
  });
});
