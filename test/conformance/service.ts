import { connect } from 'node:net';

/**
 * Whether a network service a test file needs (a NATS or Redis server) answers at `url`'s host
 * and port. Under `CI=true` a missing service is a failure; elsewhere the file is skipped, and
 * `reason` says why and how to start the service.
 */
export async function detectService(name: string, url: string, defaultPort: number, howToStart: string): Promise<{ available: boolean; reason: string }> {
  const u = new URL(url);
  const host = u.hostname || '127.0.0.1';
  const port = Number(u.port || defaultPort);
  const available = await new Promise<boolean>((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
  const reason = `${name} is not reachable at ${host}:${port} (${url}); start it with: ${howToStart}`;
  if (!available && process.env.CI === 'true') throw new Error(`CI=true and ${reason}`);
  if (!available) console.warn(`skipping: ${reason}`);
  return { available, reason };
}
