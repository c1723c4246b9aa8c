/**
 * Topic and group names through the file store: a name is either refused with `ConfigError` at
 * the call, or comes back after a restart as the same name, with its own messages and committed
 * offset — never as another name, and never sharing storage with another name.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, createBus } from '../../src/index.js';
import { fileStorage } from '../../src/node/index.js';
import { FUZZ_RUNS, report, SEED, TIMEOUT } from '../reliability/config.js';
import { cleanTempDirs, tempDir } from './helpers.js';

afterAll(cleanTempDirs);

function configError(call: () => unknown, option: string, text: string): void {
  let error: unknown;
  try {
    call();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).option).toBe(option);
  expect((error as Error).message).toContain(text);
}

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

describe('names on every engine', () => {
  it('a lone surrogate in a topic, group or dead-letter name is a ConfigError at the call, in memory too', () => {
    for (const bus of [createBus(), createBus({ storage: fileStorage(tempDir(), { fsync: 'never' }) })]) {
      configError(() => bus.topic('\uD800'), 'name', 'well-formed Unicode');
      configError(() => bus.topic('a\uDC00b'), 'name', 'lone surrogate');
      configError(() => bus.topic('t', { groups: ['ok', 'g\uDBFF'] }), 'groups', 'lone surrogate, which UTF-8 cannot carry), got `"g\\udbff"` (string) at index 1');
      configError(() => bus.topic('t', { deadLetter: '\uDFFF' }), 'deadLetter', 'well-formed Unicode');
      const t = bus.topic('t');
      configError(() => t.consumer({ group: '\uD800' }), 'group', 'well-formed Unicode');
      configError(() => t.messages({ group: '\uDC00' }), 'group', 'well-formed Unicode');
      configError(() => t.values({ group: '\uDC00x' }), 'group', 'well-formed Unicode');
      expect(Object.keys(t.stats().groups)).toEqual([]);
      expect(bus.topic('\uD83D\uDE00').name).toBe('\uD83D\uDE00'); // a pair is fine
    }
  });

  it('a group name over 65 535 UTF-8 bytes is a ConfigError; one of exactly 65 535 is kept whole', async () => {
    const dir = tempDir();
    const bus = createBus({ storage: fileStorage(dir, { fsync: 'never' }) });
    const t = bus.topic<number>('t', { capacity: 4 });
    configError(() => t.consumer({ group: 'é'.repeat(32_768) }), 'group', 'at most 65535 bytes in UTF-8');
    configError(() => bus.topic('t', { groups: ['x'.repeat(65_536)] }), 'groups', 'at most 65535 bytes in UTF-8');
    configError(() => createBus().topic('x'.repeat(65_536)), 'name', 'at most 65535 bytes in UTF-8');
    const longest = `${'é'.repeat(32_767)}a`;
    expect(utf8(longest)).toBe(65_535);
    await t.publishBatch([0, 1, 2, 3]);
    const c = t.consumer({ group: longest });
    c.tryRecv()!.ack();
    c.tryRecv()!.ack();
    await bus.close();
    const again = createBus({ storage: fileStorage(dir, { fsync: 'never' }) }).topic<number>('t', { capacity: 4 });
    expect(Object.keys(again.stats().groups)).toEqual([longest]);
    expect(again.stats().groups[longest].committed).toBe(2);
    // no phantom group holds the ring: settling the rest makes room for a publish
    const d = again.consumer({ group: longest });
    d.tryRecv()!.ack();
    d.tryRecv()!.ack();
    await expect(again.publish(4)).resolves.toBe(4);
  });
});

describe('names in fileStorage', () => {
  it('topics \\uD800 and \\uDC00 never share a directory: the storage itself refuses both', async () => {
    const storage = fileStorage(tempDir(), { fsync: 'never' });
    configError(() => storage.openSync('\uD800'), 'name', 'cannot be stored in file:');
    configError(() => storage.openSync('\uDC00'), 'name', 'lone surrogate');
    await expect(storage.open('\uD800')).rejects.toThrow(ConfigError);
  });

  it('a topic name whose directory name would pass 255 bytes is a ConfigError at topic(); 255 fits', async () => {
    const dir = tempDir();
    const bus = createBus({ storage: fileStorage(dir, { fsync: 'never' }) });
    configError(() => bus.topic('a'.repeat(256)), 'name', 'its directory name would be 256 bytes, at most 255');
    configError(() => bus.topic('é'.repeat(43)), 'name', 'its directory name would be 258 bytes');
    expect(bus.has('a'.repeat(256))).toBe(false);
    await bus.topic<string>('a'.repeat(255)).publish('x');
    await bus.topic<string>('é'.repeat(42)).publish('y');
    await bus.close();
    expect(readdirSync(join(dir, 'topics')).map((n) => n.length).sort()).toEqual([252, 255]);
    const again = createBus({ storage: fileStorage(dir, { fsync: 'never' }) });
    expect(again.topic<string>('a'.repeat(255)).consumer({ from: 'earliest' }).tryRecv()!.value).toBe('x');
    expect(again.topic<string>('é'.repeat(42)).consumer({ from: 'earliest' }).tryRecv()!.value).toBe('y');
  });

  it('a deadLetter name the storage could not keep is a ConfigError at topic(), not at the first dead letter', () => {
    const bus = createBus({ storage: fileStorage(tempDir(), { fsync: 'never' }) });
    configError(() => bus.topic('t', { deadLetter: 'x'.repeat(300), groups: ['g'] }), 'deadLetter', 'its directory name would be 300 bytes, at most 255');
    expect(bus.has('t')).toBe(false);
    expect(createBus().topic('t', { deadLetter: 'x'.repeat(300) }).name).toBe('t'); // memory keeps any length up to 65 535 bytes
    const t = bus.topic<string>('t', { deadLetter: 'dlq', groups: ['g'] });
    t.tryPublish('poison');
    t.consumer({ group: 'g' }).tryRecv()!.term('bad');
    expect(bus.topic<string>('dlq').stats().tail).toBe(1);
  });

  it('a topic directory that holds another topic (a file system that folds case) is a ConfigError', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'topics', 'orders'), { recursive: true });
    writeFileSync(join(dir, 'topics', 'orders', 'topic.json'), '{"format":1,"topic":"Orders"}\n');
    const storage = fileStorage(dir, { fsync: 'never' });
    configError(() => createBus({ storage }).topic('orders'), 'name', 'holds topic `"Orders"` (string)');
    // refused before anything was opened: the directory is not locked
    expect(readdirSync(dir)).toEqual(['topics']);
  });

  it('a message key with a lone surrogate is refused (that publish only); headers keep lone surrogates exactly', async () => {
    const dir = tempDir();
    const bus = createBus({ storage: fileStorage(dir, { fsync: 'never' }) });
    const t = bus.topic<string>('t');
    await expect(t.publish('a', { key: 'k\uD800' })).rejects.toMatchObject({ name: 'ConfigError', option: 'key' });
    expect(() => t.tryPublish('a', { key: '\uDC00' })).toThrow(ConfigError);
    expect(t.stats().tail).toBe(0);
    await t.publish('b', { key: '\uD83D\uDE00', headers: { '\uD800': '\uDFFF' } });
    await bus.close();
    const m = createBus({ storage: fileStorage(dir, { fsync: 'never' }) })
      .topic<string>('t')
      .consumer({ from: 'earliest' })
      .tryRecv()!;
    expect([m.offset, m.value, m.key, m.headers]).toEqual([0, 'b', '\uD83D\uDE00', { '\uD800': '\uDFFF' }]);
  });

  it('the group journal refuses a name it cannot hold whole instead of cutting it', async () => {
    const storage = fileStorage(tempDir(), { fsync: 'never' });
    const store = storage.openSync('t');
    expect(() => store.group({ kind: 'create', group: 'x'.repeat(65_536), offset: 0 })).toThrow(ConfigError);
    expect(() => store.group({ kind: 'create', group: '\uD800', offset: 0 })).toThrow(ConfigError);
    await store.close();
    const again = fileStorage(storage.dir, { fsync: 'never' }).openSync('t');
    expect(again.recovered.groups).toEqual([]);
    await again.close();
  });
});

/** Names: arbitrary code units (lone surrogates included), near the directory-name limit, and past 65 535 UTF-8 bytes. */
const anyName: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }), weight: 4 },
  { arbitrary: fc.string({ unit: fc.constantFrom('\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uD83D\uDE00', 'a', 'A', '.', '%', '/', 'é', '\0'), minLength: 1, maxLength: 6 }), weight: 4 },
  { arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 12 }), weight: 2 },
  { arbitrary: fc.tuple(fc.constantFrom('a', '.', 'é', '€', '\uD83D\uDE00'), fc.integer({ min: 80, max: 260 })).map(([c, n]) => c.repeat(Math.ceil(n / c.length))), weight: 1 },
  { arbitrary: fc.tuple(fc.constantFrom('x', 'é', '€'), fc.integer({ min: 65_530, max: 65_540 })).map(([c, n]) => c.repeat(Math.ceil(n / utf8(c)))), weight: 1 },
);

/** Whether a name is one UTF-8 carries: encoding and decoding it gives it back. */
const wellFormed = (s: string) => Buffer.from(s, 'utf8').toString('utf8') === s;

/** The directory name length the storage documents: 1 byte for `A-Z a-z 0-9 _ -` and a `.` not first, 3 for every other UTF-8 byte. */
function dirNameLength(s: string): number {
  const bytes = Buffer.from(s, 'utf8');
  let n = 0;
  bytes.forEach((b, i) => (n += /[A-Za-z0-9_-]/.test(String.fromCharCode(b)) || (b === 0x2e && i > 0) ? 1 : 3));
  return n;
}

/** What the property saw, for the report. */
const seen = { kept: 0, refused: 0 };

/** Opens every topic and group name, closes, and checks what a reopened storage recovers from `dir`. */
async function roundTrip(dir: string, topics: string[], groups: string[]): Promise<void> {
  const bus = createBus({ storage: fileStorage(dir, { fsync: 'never' }) });
  const topicsKept: string[] = [];
  const groupsKept: string[] = [];
  for (const name of topics) {
    const allowed = wellFormed(name) && dirNameLength(name) <= 255;
    let t;
    try {
      t = bus.topic<{ topic: string; n: number }>(name);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect(allowed).toBe(false);
      seen.refused++;
      continue;
    }
    expect(allowed).toBe(true);
    topicsKept.push(name);
    await t.publishBatch([
      { topic: name, n: 0 },
      { topic: name, n: 1 },
    ]);
    for (const group of groups) {
      const allowedGroup = wellFormed(group) && utf8(group) <= 65_535;
      let c;
      try {
        c = t.consumer({ group });
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        expect(allowedGroup).toBe(false);
        seen.refused++;
        continue;
      }
      expect(allowedGroup).toBe(true);
      if (topicsKept.length === 1) groupsKept.push(group);
      c.tryRecv()!.ack(); // committed 1
      c.close();
    }
  }
  await bus.close();
  const storage = fileStorage(dir, { fsync: 'never' });
  for (const name of topicsKept) {
    const store = storage.openSync(name);
    const r = store.recovered;
    expect(r.tail).toBe(2);
    expect([...r.messages].map((m) => m.value)).toEqual([
      { topic: name, n: 0 },
      { topic: name, n: 1 },
    ]);
    expect(r.groups.map((g) => [g.name, g.committed]).sort()).toEqual(groupsKept.map((g) => [g, 1]).sort());
    await store.close();
    seen.kept++;
  }
  expect(existsSync(join(dir, 'topics')) ? readdirSync(join(dir, 'topics')).length : 0).toBe(topicsKept.length);
}

describe('names survive the file store (property)', () => {
  const runs = Math.max(50, Math.ceil(FUZZ_RUNS / 10));
  it(
    `${runs} sets of topic and group names: each refused with ConfigError at the call, or back after a restart as itself`,
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(anyName, { minLength: 1, maxLength: 4 }), fc.uniqueArray(anyName, { minLength: 1, maxLength: 3 }), async (topics, groups) => {
          const dir = mkdtempSync(join(tmpdir(), 'ringbus-names-'));
          try {
            await roundTrip(dir, topics, groups);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        }),
        { numRuns: runs, seed: SEED },
      );
      report(`names: ${runs} runs, ${seen.kept} topics kept across a restart, ${seen.refused} names refused with ConfigError`);
    },
    TIMEOUT,
  );
});
