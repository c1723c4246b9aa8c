/**
 * The `ringbus` command line (the package's `bin`):
 *
 *   ringbus inspect <dir> [--json]
 *   ringbus tail <dir> <topic> [--from earliest|latest|N] [--group g] [--follow]
 *   ringbus dashboard <dir> [--port N] [--host H] [--interval ms]
 *
 * `inspect` lists topics, segments, offsets, sizes and each group's committed offset and lag.
 * `tail` prints messages as JSON lines (offset, timestamp, key, headers, value), decoded with
 * the frame header each value carries; `--group g` starts at the group's committed offset;
 * `--follow` keeps printing what is appended. Both only read: safe next to a running process.
 * A progress line goes to stderr while a scan is long.
 *
 * Both read what recovery would keep: damaged bytes are skipped by resynchronising on the next
 * whole record, entries of `topics/` that are not topics are skipped, and each is named on
 * stderr; the exit status is 1 when anything could not be read (or a value the store framed
 * could not be decoded), 2 for a usage error.
 */
import { dashboardCommand } from './dashboard-cli.js';
import { inspectCommand } from './inspect-cli.js';
import type { Io } from './internal/cli-io.js';
import { tailCommand } from './tail-cli.js';

const USAGE = `usage:
  ringbus inspect <dir> [--json]
  ringbus tail <dir> <topic> [--from earliest|latest|N] [--group g] [--follow]
  ringbus dashboard <dir> [--port N] [--host 127.0.0.1] [--interval ms]`;

const defaultIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  tty: process.stderr.isTTY === true,
};

/**
 * Runs the CLI with `args` (without `node` and the script); resolves the exit status.
 *
 * @example
 * ```ts
 * process.exitCode = await main(process.argv.slice(2));
 * ```
 */
export async function main(args: string[], io: Io = defaultIo, signal?: AbortSignal): Promise<number> {
  const [cmd, ...rest] = args;
  try {
    if (cmd === 'inspect') return inspectCommand(rest, io, USAGE);
    if (cmd === 'tail') return await tailCommand(rest, io, USAGE, signal);
    if (cmd === 'dashboard') return await dashboardCommand(rest, io, USAGE, signal);
    if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
      io.out(`${USAGE}\n`);
      return 0;
    }
    io.err(`${USAGE}\n`);
    return 2;
  } catch (e) {
    io.err(`ringbus: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

/**
 * The `bin` entry: runs {@link main} on `process.argv`, exits quietly when stdout is closed
 * early (`ringbus tail ... | head`), and stops `--follow` on SIGINT/SIGTERM.
 *
 * @example
 * ```ts
 * await run();
 * ```
 */
export async function run(args: string[] = process.argv.slice(2)): Promise<void> {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const stop = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => stop.abort());
  process.exitCode = await main(args, defaultIo, stop.signal);
}
