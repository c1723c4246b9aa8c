import { Socket } from 'node:net';

/**
 * Whether a service a remote engine's tests need (Redis, NATS) answers on `host:port`. Under
 * `CI=true` a missing service is an error naming it and how to start it; elsewhere the tests are
 * skipped with that message printed.
 */
export interface Service {
  /** True when the service accepted a TCP connection. */
  readonly up: boolean;
  /** Why the tests are skipped, when the service is down (printed once). */
  readonly reason: string | undefined;
}

/** Resolves whether a TCP connection to `host:port` opens within `timeoutMs`. */
export function reachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

/**
 * Detects a service at `url` (`scheme://host:port`). Down under `CI=true`: throws, naming the
 * service, the address and `hint` (how to start it). Down elsewhere: answers `up: false` with the
 * reason, printed on the console.
 */
export async function detectService(name: string, url: string, defaultPort: number, hint: string): Promise<Service> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = u.port === '' ? defaultPort : Number(u.port);
  if (await reachable(host, port)) return { up: true, reason: undefined };
  const reason = `${name} is not reachable at ${host}:${port} (${hint})`;
  if (process.env['CI'] === 'true') throw new Error(`${reason}; CI=true needs it`);
  console.warn(`skipped: ${reason}`);
  return { up: false, reason };
}
