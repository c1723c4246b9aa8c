/** One process per storage directory: a `LOCK` file holding the owner's pid. */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { StorageError } from '../../errors.js';
import { LOCK_FILE } from './names.js';

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

function readPid(path: string): number {
  try {
    return Number.parseInt(fs.readFileSync(path, 'utf8').trim(), 10);
  } catch {
    return NaN;
  }
}

/**
 * Takes the lock of `dir` for this process. Throws `StorageError` naming the pid when another
 * live process holds it; a lock left by a dead process is taken over.
 */
export function acquireLock(dir: string): void {
  const path = join(dir, LOCK_FILE);
  const mine = `${process.pid}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      fs.writeFileSync(path, mine, { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new StorageError(`cannot create the lock file ${path}: ${(e as Error).message}`, { cause: e });
    }
    const pid = readPid(path);
    if (pid === process.pid) return; // left by an earlier storage object of this process, closed without release
    if (alive(pid)) throw new StorageError(`storage directory ${dir} is locked by process ${pid} (${path})`);
    // stale: replace atomically, then check that we won a race against another taker
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      fs.writeFileSync(tmp, mine);
      fs.renameSync(tmp, path);
    } catch (e) {
      throw new StorageError(`cannot take over the stale lock ${path} (pid ${pid}): ${(e as Error).message}`, { cause: e });
    }
    if (readPid(path) === process.pid) return;
  }
  throw new StorageError(`storage directory ${dir} is locked by process ${readPid(path)} (${path})`);
}

/** Releases the lock if this process holds it. */
export function releaseLock(dir: string): void {
  const path = join(dir, LOCK_FILE);
  if (readPid(path) === process.pid) {
    try {
      fs.unlinkSync(path);
    } catch {
      // already gone
    }
  }
}
