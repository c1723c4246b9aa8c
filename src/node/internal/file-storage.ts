/** `fileStorage()`: the Storage over a directory, its lock, and its open topics. */
import * as fs from 'node:fs';
import { resolve } from 'node:path';
import { StorageError } from '../../errors.js';
import type { TopicStore } from '../../storage.js';
import type { FileStorage, FileStorageOptions, FileTopicStats, RecoveryReport } from '../types.js';
import { DirLock } from './lock.js';
import { topicDir } from './names.js';
import { type FileStorageSettings, fileStorageSettings } from './options.js';
import { FileTopicStore } from './store.js';

class FileStorageImpl implements FileStorage {
  readonly name: string;
  readonly dir: string;
  private readonly settings: FileStorageSettings;
  private readonly stores = new Map<string, FileTopicStore>();
  private readonly reports = new Map<string, RecoveryReport>();
  private readonly dirLock = new DirLock();
  /** The directory with every symlink resolved, once locked: what the files are opened under. */
  private root = '';
  private locked = false;

  constructor(settings: FileStorageSettings) {
    this.settings = settings;
    this.dir = resolve(settings.dir);
    this.name = `file:${this.dir}`;
  }

  open(topic: string): TopicStore {
    if (this.stores.has(topic)) throw new StorageError(`topic \`${topic}\` is already open in ${this.name}`);
    if (!this.locked) this.lock();
    let store: FileTopicStore;
    try {
      store = new FileTopicStore(topic, topicDir(this.root, topic), this.settings, () => this.released(topic, store));
    } catch (e) {
      if (this.stores.size === 0) this.unlock();
      if (e instanceof StorageError) throw e;
      throw new StorageError(`cannot open topic \`${topic}\` in ${this.dir}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    this.stores.set(topic, store);
    this.reports.set(topic, store.report);
    this.settings.onRecovery?.(store.report);
    return store;
  }

  report(topic: string): RecoveryReport | undefined {
    return this.reports.get(topic);
  }

  stats(topic: string): FileTopicStats | undefined {
    return this.stores.get(topic)?.stats();
  }

  private lock(): void {
    let root: string;
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      root = fs.realpathSync(this.dir);
    } catch (e) {
      throw new StorageError(`cannot create ${this.dir}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    this.dirLock.acquire(root, this.dir);
    this.root = root;
    this.locked = true;
  }

  private unlock(): void {
    if (!this.locked) return;
    this.dirLock.release();
    this.locked = false;
  }

  private released(topic: string, store: FileTopicStore): void {
    if (this.stores.get(topic) !== store) return;
    this.stores.delete(topic);
    if (this.stores.size === 0) this.unlock();
  }
}

export function createFileStorage(dir: string, options?: FileStorageOptions): FileStorage {
  return new FileStorageImpl(fileStorageSettings(dir, options));
}
