/**
 * How each end of a port learns at once that the other is gone, where a port has no close event
 * (browsers): each end holds a Web Lock for as long as it lives and the other asks for the same
 * lock. The browser releases a lock when its page or worker ends — closed, navigated away,
 * crashed, terminated — and grants it to the one waiting. A heartbeat could not tell as well: a
 * hidden tab's timers may be throttled to one run a minute.
 */

/** The Web Locks API where the platform has it: browsers' pages and workers in a secure context (https, localhost). */
function lockManager(): LockManager | undefined {
  return (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
}

/** A lock name no other end uses. */
export function leaseName(side: 'client' | 'server'): string | undefined {
  return lockManager() === undefined ? undefined : `ringbus-${side}-${crypto.randomUUID()}`;
}

/**
 * Takes the lock `name` and holds it until the returned function is called. Resolves undefined
 * where there are no Web Locks or the lock is refused (an opaque origin).
 */
export function holdLease(name: string): Promise<(() => void) | undefined> {
  const locks = lockManager();
  if (locks === undefined) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    locks.request(name, () => new Promise<void>((release) => resolve(release))).catch(() => resolve(undefined));
  });
}

/**
 * Calls `gone` once the lock `name` is released by its holder (the other end ended or let go),
 * or `refused` if the lock cannot be asked for. Returns the function that stops watching, or
 * undefined where there are no Web Locks.
 */
export function watchLease(name: string, gone: () => void, refused: () => void): (() => void) | undefined {
  const locks = lockManager();
  if (locks === undefined) return undefined;
  const watch = new AbortController();
  locks
    .request(name, { signal: watch.signal }, () => gone())
    .catch(() => {
      if (!watch.signal.aborted) refused();
    });
  return () => watch.abort();
}
