import type { Storage } from '../storage.js';

/**
 * The durability of IndexedDB's write transactions: `'strict'` commits only once the data is
 * flushed to disk; `'relaxed'` once the browser holds it; `'default'` is the browser's choice.
 */
export type Durability = 'strict' | 'relaxed' | 'default';

/** Options of `indexedDbStorage()`. */
export interface IndexedDbStorageOptions {
  /**
   * `'strict'` (the default): a resolved publish survives an OS crash or power loss too;
   * `'relaxed'`: it survives the page, the tab and the renderer crashing, not the machine;
   * `'default'`: the browser's choice.
   */
  readonly durability?: Durability;
}

/** An IndexedDB `Storage` (`indexedDbStorage()`). */
export interface IndexedDbStorage extends Storage {
  /** The IndexedDB database name. */
  readonly database: string;
}
