/** `fileStorage()`: the Storage over a directory, its lock, and its open topics. */
import * as fs from 'node:fs';
import { resolve } from 'node:path';
import { StorageError } from '../../errors.js';
import type { TopicStore } from '../../storage.js';
import type { FileStorage, FileStorageOptions, FileTopicStats, RecoveryReport } from '../types.js';
import { acquireLock, releaseLock } from './lock.js';
import { topicDir } from './names.js';
import { type FileStorageSettings, fileStorageSettings } from './options.js';
import { FileTopicStore } from './store.js';

/** Directories held by a storage object of this process (the lock file cannot tell two apart). */
const held = new Set<string>();

class FileStorageImpl implements FileStorage {
  readonly name: string;
  readonly dir: string;
  private readonly settings: FileStorageSettings;
  private readonly stores = new Map<string, FileTopicStore>();
  private readonly reports = new Map<string, RecoveryReport>();
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
      store = new FileTopicStore(topic, topicDir(this.dir, topic), this.settings, () => this.released(topic, store));
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
    if (held.has(this.dir)) throw new StorageError(`storage directory ${this.dir} is already open in this process (pid ${process.pid}) by another fileStorage`);
    try {
      fs.mkdirSync(this.dir, { recursive: true });
    } catch (e) {
      throw new StorageError(`cannot create ${this.dir}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    acquireLock(this.dir);
    held.add(this.dir);
    this.locked = true;
  }

  private unlock(): void {
    if (!this.locked) return;
    releaseLock(this.dir);
    held.delete(this.dir);
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
