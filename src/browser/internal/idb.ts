/** The IndexedDB database behind `indexedDbStorage()`: its layout, and requests as promises. */
import { StorageError } from '../../errors.js';

/** Retained messages, keyed `[topic, offset]`. */
export const MESSAGES = 'messages';
/** Durable groups' states, keyed `[topic, group]`. */
export const GROUPS = 'groups';
/** Per topic, keyed by its name: `{ tail }`, the next offset (kept when nothing is retained). */
export const TOPICS = 'topics';
export const STORES = [MESSAGES, GROUPS, TOPICS];
const VERSION = 1;

/** Every key `[topic, x]` for a number or string `x` (an array sorts after both). */
export function topicRange(topic: string): IDBKeyRange {
  return IDBKeyRange.bound([topic], [topic, []]);
}

/** The platform's IndexedDB, or a `StorageError` saying it is missing. */
function factory(db: string): IDBFactory {
  const f = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (f === undefined) throw new StorageError(`indexedDbStorage('${db}'): IndexedDB is not available here (a browser page or worker has it; Node does not)`);
  return f;
}

/** Resolves with a request's result; rejects with a `StorageError` naming `what`. */
export function request<R>(req: IDBRequest<R>, what: string): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(storageError(what, req.error));
  });
}

export function storageError(what: string, cause: unknown): StorageError {
  const detail = cause instanceof Error || (typeof DOMException !== 'undefined' && cause instanceof DOMException) ? `${(cause as Error).name}: ${(cause as Error).message}` : String(cause);
  return new StorageError(`${what}: ${detail}`, { cause });
}

/** Opens (creating or upgrading) the database `name`. */
export function openDatabase(name: string): Promise<IDBDatabase> {
  let req: IDBOpenDBRequest;
  try {
    req = factory(name).open(name, VERSION);
  } catch (e) {
    return Promise.reject(e instanceof StorageError ? e : storageError(`indexedDbStorage('${name}'): cannot open the database`, e));
  }
  req.onupgradeneeded = () => {
    const db = req.result;
    for (const store of STORES) if (!db.objectStoreNames.contains(store)) db.createObjectStore(store);
  };
  req.onblocked = () => undefined; // an older version open in another tab: the open waits for it to close
  return request(req, `indexedDbStorage('${name}'): cannot open the database`);
}

/** Resolves once `tx` has committed; rejects with a `StorageError` when it aborts. */
export function committed(tx: IDBTransaction, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(storageError(what, tx.error ?? 'the transaction was aborted'));
  });
}

/**
 * Holds the Web Lock `name` until `release` is called; resolves false when another holder has
 * it (another tab, worker or storage object). True without waiting where Web Locks are missing.
 */
export function exclusive(name: string): Promise<{ held: boolean; release(): void }> {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  if (locks === undefined) return Promise.resolve({ held: true, release: () => undefined });
  return new Promise((resolve, reject) => {
    let release = (): void => undefined;
    const kept = new Promise<void>((r) => (release = r));
    locks
      .request(name, { ifAvailable: true }, (lock) => {
        resolve({ held: lock !== null, release });
        return lock === null ? undefined : kept;
      })
      .catch(reject);
  });
}
