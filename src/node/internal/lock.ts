/**
 * One storage object per directory: a `LOCK` file holding the owner's pid and a token of the
 * storage object that holds it (`"<pid>\n<token>\n"`), and a registry of the directories this
 * process holds, keyed by the directory's identity so that no spelling of a path gets past it.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { StorageError } from '../../errors.js';
import { LOCK_FILE } from './names.js';

/**
 * Directories held by storage objects of this process: `dev:ino` → the path the holder was
 * opened with. On `globalThis` under a registered symbol, so that two copies of this module in
 * one process (two installed versions, or the ESM and CJS builds) share it.
 */
const REGISTRY = Symbol.for('ringbus.fileStorage.held');
const held: Map<string, string> = ((globalThis as Record<symbol, unknown>)[REGISTRY] ??= new Map<string, string>()) as Map<string, string>;

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

function readLock(path: string): string | undefined {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The pid a lock file's content names, or NaN. */
function lockPid(content: string | undefined): number {
  return content === undefined ? NaN : Number.parseInt(content, 10);
}

/**
 * Whether some file descriptor of this process is open on the file at `path`: a storage object
 * keeps its `LOCK` open while it holds it, so this tells a lock held by another thread of this
 * process (which has its own registry) from a stale one. `undefined` where the process's
 * descriptors cannot be listed (no `/dev/fd`, as on Windows).
 */
function openInThisProcess(path: string): boolean | undefined {
  let target: fs.BigIntStats;
  let fds: string[];
  try {
    target = fs.statSync(path, { bigint: true });
    fds = fs.readdirSync('/dev/fd');
  } catch {
    return undefined;
  }
  for (const name of fds) {
    try {
      const st = fs.fstatSync(Number(name), { bigint: true });
      if (st.ino === target.ino && st.dev === target.dev) return true;
    } catch {
      // closed meanwhile, or the listing's own descriptor
    }
  }
  return false;
}

/** A directory's identity: the same for every path that reaches it (symlinks, `..`, bind mounts). */
function identity(dir: string): string {
  const st = fs.statSync(dir, { bigint: true });
  if (!st.isDirectory()) throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
  return `${st.dev}:${st.ino}`;
}

/** The lock one storage object holds on its directory. */
export class DirLock {
  /** This storage object's token in the lock file. */
  private readonly token = randomUUID();
  private readonly content = `${process.pid}\n${this.token}\n`;
  private key: string | undefined = undefined;
  private path = '';
  /** The lock file, open while held (what {@link openInThisProcess} finds). */
  private fd = -1;

  /**
   * Takes `dir` (which exists) for this storage object, opened as `asked`. Throws `StorageError`
   * when another storage object of this process holds it (naming both paths) or another live
   * process does (naming its pid), or a storage object of another thread of this process holds
   * it open. A lock left by a dead process, or one holding this process's pid that no storage
   * object of this process holds (left by an earlier process that had this pid), is stale and
   * taken over.
   */
  acquire(dir: string, asked: string): void {
    let key: string;
    try {
      key = identity(dir);
    } catch (e) {
      throw new StorageError(`cannot use ${asked} as a storage directory: ${(e as Error).message}`, { cause: e });
    }
    const other = held.get(key);
    if (other !== undefined) {
      throw new StorageError(`storage directory ${asked} is already open in this process (pid ${process.pid}) by another fileStorage, opened as ${other} (both are ${dir})`);
    }
    const path = join(dir, LOCK_FILE);
    this.take(path, asked);
    try {
      this.fd = fs.openSync(path, 'r');
    } catch (e) {
      throw new StorageError(`cannot open the lock file ${path}: ${(e as Error).message}`, { cause: e });
    }
    held.set(key, asked);
    this.key = key;
    this.path = path;
  }

  private take(path: string, asked: string): void {
    const mine = this.content;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        fs.writeFileSync(path, mine, { flag: 'wx' });
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new StorageError(`cannot create the lock file ${path}: ${(e as Error).message}`, { cause: e });
      }
      const found = readLock(path);
      if (found === mine) return;
      const pid = lockPid(found);
      if (pid === process.pid) {
        // not in this thread's registry: another thread's storage holds it open, or it is stale
        if (openInThisProcess(path) === true) throw new StorageError(`storage directory ${asked} is already open in this process (pid ${pid}) by a fileStorage of another thread (${path})`);
      } else if (alive(pid)) throw new StorageError(`storage directory ${asked} is locked by process ${pid} (${path})`);
      // stale: replace atomically, then check that we won a race against another taker
      const tmp = `${path}.${this.token}.tmp`;
      try {
        fs.writeFileSync(tmp, mine);
        fs.renameSync(tmp, path);
      } catch (e) {
        throw new StorageError(`cannot take over the stale lock ${path} (pid ${pid}): ${(e as Error).message}`, { cause: e });
      }
      if (readLock(path) === mine) return;
    }
    throw new StorageError(`storage directory ${asked} is locked by process ${lockPid(readLock(path))} (${path})`);
  }

  /** Releases the directory; the lock file is deleted only while it is still this object's. */
  release(): void {
    if (this.key === undefined) return;
    held.delete(this.key);
    this.key = undefined;
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    if (readLock(this.path) === this.content) {
      try {
        fs.unlinkSync(this.path);
      } catch {
        // already gone
      }
    }
  }
}
