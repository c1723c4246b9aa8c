import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { detectService } from '../conformance/service.js';
import { afterAll } from 'vitest';

export const NATS_URL = process.env.RINGBUS_NATS_URL ?? 'nats://127.0.0.1:4222';

const START = 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log';

/** Whether the NATS server answers (under CI=true, throws when it does not). */
export const nats = await detectService('nats-server', NATS_URL, 4222, START);

let prefixes = 0;

/** A stream prefix no other test (or test process) uses. */
export function freshPrefix(): string {
  return `rbt${process.pid}_${prefixes++}_${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * A stream prefix for one test, whose streams are deleted after the file (call at the top level
 * of a test file, before its tests).
 */
export function prefixPerTest(): () => string {
  const used: string[] = [];
  afterAll(async () => {
    if (nats.available) for (const p of used) await deleteStreams(p);
  });
  return () => {
    const p = freshPrefix();
    used.push(p);
    return p;
  };
}

/** Deletes every stream whose name starts with `prefix_`. */
export async function deleteStreams(prefix: string): Promise<void> {
  const nc = await connect({ servers: NATS_URL });
  try {
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names()) if (name.startsWith(`${prefix}_`)) await jsm.streams.delete(name).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

/**
 * Polls `read` until `done` holds of it (or 15 s pass: advisories and snapshots arrive late on a
 * loaded machine); the last value read, for the test to assert on.
 */
export async function settledOn<S>(read: () => S, done: (s: S) => boolean): Promise<S> {
  const end = Date.now() + 15_000;
  let s = read();
  while (!done(s) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 40));
    s = read();
  }
  return s;
}
