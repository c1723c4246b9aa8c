import { closeSync, existsSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createBus, StorageError } from '../../src/index.js';
import { fileStorage } from '../../src/node/index.js';
import { cleanTempDirs, tempDir } from './helpers.js';

afterAll(cleanTempDirs);

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

function refusal(open: () => unknown): StorageError {
  let error: unknown;
  try {
    open();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(StorageError);
  return error as StorageError;
}

/** Spellings of one directory `dir`: the first is the plain path. */
function spellings(dir: string): string[] {
  const root = tempDir();
  symlinkSync(dir, join(root, 'link'));
  symlinkSync(dirname(dir), join(root, 'parent'));
  symlinkSync(join(root, 'link'), join(root, 'link-to-link'));
  return [
    dir,
    `${dir}/`,
    `${dir}//.`,
    join(dir, '..', basename(dir)),
    relative(process.cwd(), dir),
    join(root, 'link'),
    `${join(root, 'link')}/`,
    join(root, 'parent', basename(dir)),
    join(root, 'link-to-link'),
  ];
}

describe('one fileStorage per directory in a process', () => {
  it('a second storage through a symlink is refused, naming both paths; the first keeps every record', async () => {
    const dir = tempDir();
    const link = join(tempDir(), 'link');
    symlinkSync(dir, link);
    const a = createBus({ storage: fileStorage(dir) });
    const ta = a.topic<string>('t');
    await ta.publish('a0');
    const error = refusal(() => createBus({ storage: fileStorage(link) }).topic<string>('t'));
    expect(error.message).toContain(dir);
    expect(error.message).toContain(link);
    await ta.publish('a1');
    await a.close();
    const again = createBus({ storage: fileStorage(link) }).topic<string>('t');
    const c = again.consumer({ from: 'earliest' });
    expect([c.tryRecv()?.value, c.tryRecv()?.value, c.tryRecv()]).toEqual(['a0', 'a1', undefined]);
  });

  it('every other spelling of a held directory is refused, and opens once the first storage has closed', async () => {
    const dir = tempDir();
    const names = spellings(dir);
    const first = createBus({ storage: fileStorage(names[0]) });
    first.topic('t');
    for (const other of names.slice(1)) {
      const error = refusal(() => createBus({ storage: fileStorage(other) }).topic('u'));
      expect(error.message).toContain('already open in this process');
    }
    await first.close();
    for (const name of names.slice(1)) {
      const bus = createBus({ storage: fileStorage(name) });
      bus.topic('t');
      await bus.close();
    }
  });

  it('a second copy of the module in the same process is refused too (the LOCK holds our pid, but not for it)', async () => {
    const dir = tempDir();
    const bus = createBus({ storage: fileStorage(dir) });
    bus.topic('t');
    vi.resetModules();
    const copy = (await import('../../src/node/index.js')) as typeof import('../../src/node/index.js');
    expect(copy.fileStorage).not.toBe(fileStorage);
    // the copy has its own error classes
    expect(() => copy.fileStorage(dir).openSync('t')).toThrow(expect.objectContaining({ name: 'StorageError', code: 'ERR_STORAGE', message: expect.stringContaining(`${dir} is already open in this process`) }));
    await bus.close();
  });
  it('a storage of another thread is refused while that thread lives; its lock is taken over once it has exited', async () => {
    const dir = tempDir();
    const code = `import('tsx/esm/api').then(async ({ register }) => {
      register();
      const { fileStorage } = await import(${JSON.stringify(join(ROOT, 'src/node/index.ts'))});
      const { createBus } = await import(${JSON.stringify(join(ROOT, 'src/index.ts'))});
      await createBus({ storage: fileStorage(${JSON.stringify(dir)}) }).topic('t').publish('from the worker');
      require('node:worker_threads').parentPort.postMessage('held');
      setInterval(() => {}, 1000);
    })`;
    const worker = new Worker(code, { eval: true, execArgv: ['--conditions=ringbus-source'] });
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const error = refusal(() => createBus({ storage: fileStorage(dir) }).topic<string>('t'));
    expect(error.message).toContain(`${dir} is already open in this process (pid ${process.pid}) by a fileStorage of another thread`);
    await worker.terminate();
    const t = createBus({ storage: fileStorage(dir) }).topic<string>('t');
    expect(t.consumer({ from: 'earliest' }).tryRecv()?.value).toBe('from the worker');
  });
});

describe('the LOCK file', () => {
  it('holds the pid and a token of the storage that holds it, and is removed when its last topic closes', async () => {
    const dir = tempDir();
    const bus = createBus({ storage: fileStorage(dir) });
    bus.topic('t');
    const [pid, token, rest] = readFileSync(join(dir, 'LOCK'), 'utf8').split('\n');
    expect(Number(pid)).toBe(process.pid);
    expect(token).toMatch(/^[0-9a-f-]{36}$/);
    expect(rest).toBe('');
    await bus.close();
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);
  });

  it.each([
    ['our pid alone', () => `${process.pid}\n`],
    ['our pid and another storage token', () => `${process.pid}\n00000000-0000-4000-8000-000000000000\n`],
  ])('left with %s by no storage of this process is stale: it is taken over and released', async (_, content) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'LOCK'), content());
    const bus = createBus({ storage: fileStorage(dir) });
    await bus.topic<string>('t').publish('x');
    const now = readFileSync(join(dir, 'LOCK'), 'utf8');
    expect(now).not.toBe(content());
    expect(now.startsWith(`${process.pid}\n`)).toBe(true);
    await bus.close();
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);
  });

  it('with our pid and held open by this process (another thread) is refused; once closed it is stale', async () => {
    const dir = tempDir();
    const other = `${process.pid}\n00000000-0000-4000-8000-000000000000\n`;
    writeFileSync(join(dir, 'LOCK'), other);
    const fd = openSync(join(dir, 'LOCK'), 'r');
    try {
      refusal(() => createBus({ storage: fileStorage(dir) }).topic('t'));
      expect(readFileSync(join(dir, 'LOCK'), 'utf8')).toBe(other);
    } finally {
      closeSync(fd);
    }
    const bus = createBus({ storage: fileStorage(dir) });
    bus.topic('t');
    expect(readFileSync(join(dir, 'LOCK'), 'utf8')).not.toBe(other);
    await bus.close();
  });

  it('a storage that closes does not delete a LOCK it no longer holds', async () => {
    const dir = tempDir();
    const bus = createBus({ storage: fileStorage(dir) });
    bus.topic('t');
    const taken = `${process.pid}\n00000000-0000-4000-8000-000000000000\n`;
    writeFileSync(join(dir, 'LOCK'), taken);
    await bus.close();
    expect(readFileSync(join(dir, 'LOCK'), 'utf8')).toBe(taken);
  });

  it('a storage directory that is a file is refused with StorageError', () => {
    const file = join(tempDir(), 'file');
    writeFileSync(file, '');
    expect(() => createBus({ storage: fileStorage(file) }).topic('t')).toThrow(StorageError);
  });
});
