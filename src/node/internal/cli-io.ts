import type { StorageInspection } from '../inspect.js';

/** Where a command writes. */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** True when stderr is a terminal (the progress line rewrites itself). */
  tty: boolean;
}

/** A byte count for people: B, KiB, MiB, GiB. */
export function size(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** A progress line on stderr, shown once a scan has taken more than half a second. */
export class Progress {
  private readonly start = Date.now();
  private last = 0;
  private shown = false;
  private done = 0;
  constructor(
    private readonly io: Io,
    private readonly what: string,
    private readonly total: number,
  ) {}
  add(n: number): void {
    this.done += n;
    const now = Date.now();
    if (now - this.start < 500 || now - this.last < (this.io.tty ? 200 : 2000)) return;
    this.last = now;
    this.shown = true;
    const line = `${this.what}: ${size(this.done)} of ${size(this.total)} (${Math.round((100 * this.done) / Math.max(1, this.total))}%)`;
    this.io.err(this.io.tty ? `\r${line}\x1b[K` : `${line}\n`);
  }
  end(): void {
    if (this.shown && this.io.tty) this.io.err('\r\x1b[K');
  }
}

/** True while process `pid` runs (one owned by another user included). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A live process holds the directory: a partial record at the very end is a write in progress. */
export function liveWriter(r: Pick<StorageInspection, 'lockedBy'>): boolean {
  return r.lockedBy !== undefined && r.lockedBy !== process.pid && alive(r.lockedBy);
}

/** The offsets a damaged range lost, as words. */
export function offsets(from: number, to: number): string {
  if (to <= from) return 'no whole record lost';
  return to - from === 1 ? `offset ${from} lost` : `offsets ${from}..${to - 1} lost`;
}
