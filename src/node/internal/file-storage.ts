/** `fileStorage()`: the Storage over a directory, its lock, and its open topics. */
import * as fs from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, StorageError } from '../../errors.js';
import { describe, nameProblem } from '../../internal/validate.js';
import type { TopicStore } from '../../storage.js';
import type { FileStorage, FileStorageOptions, FileTopicStats, RecoveryReport } from '../types.js';
import { DirLock } from './lock.js';
import { DIR_NAME_MAX, TOPIC_META, TOPICS_DIR, topicDirName } from './names.js';
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

  /** The file system is read synchronously: opening finishes in the calling turn, so `open` only wraps `openSync`. */
  open(topic: string): Promise<TopicStore> {
    try {
      return Promise.resolve(this.openSync(topic));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  openSync(topic: string): FileTopicStore {
    const dirName = this.dirName(topic);
    if (this.stores.has(topic)) throw new StorageError(`topic \`${topic}\` is already open in ${this.name}`);
    if (!this.locked) this.lock();
    let store: FileTopicStore;
    try {
      const dir = join(this.root, TOPICS_DIR, dirName);
      this.checkOwner(topic, dir);
      store = new FileTopicStore(topic, dir, this.settings, () => this.released(topic, store));
    } catch (e) {
      if (this.stores.size === 0) this.unlock();
      if (e instanceof StorageError || e instanceof ConfigError) throw e;
      throw new StorageError(`cannot open topic \`${topic}\` in ${this.dir}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    this.stores.set(topic, store);
    this.reports.set(topic, store.report);
    this.settings.onRecovery?.(store.report);
    return store;
  }

  checkName(topic: string): void {
    this.dirName(topic);
  }

  /** The directory name of `topic`; `ConfigError` for a name this storage cannot keep as it is. */
  private dirName(topic: string): string {
    if (typeof topic !== 'string' || topic.length === 0) throw new ConfigError('name', `a topic name must be a non-empty string, got ${describe(topic)}`);
    const problem = nameProblem(topic);
    if (problem !== undefined) throw new ConfigError('name', `topic name ${describe(topic)} cannot be stored in ${this.name}: a name must be ${problem}`);
    const dirName = topicDirName(topic);
    if (dirName.length > DIR_NAME_MAX) {
      throw new ConfigError(
        'name',
        `topic name ${describe(topic)} is too long for ${this.name}: its directory name would be ${dirName.length} bytes, at most ${DIR_NAME_MAX} (A-Z a-z 0-9 _ - and a . not first take 1 byte each, every other UTF-8 byte 3)`,
      );
    }
    return dirName;
  }

  /**
   * Refuses a topic directory that holds another topic: on a file system that folds case
   * (macOS, Windows), `Orders` and `orders` reach one directory.
   */
  private checkOwner(topic: string, dir: string): void {
    let owner: unknown;
    try {
      owner = (JSON.parse(fs.readFileSync(join(dir, TOPIC_META), 'utf8')) as { topic?: unknown }).topic;
    } catch {
      return; // a new topic, or a damaged topic.json (recovery does not need it)
    }
    if (typeof owner === 'string' && owner !== topic) {
      throw new ConfigError('name', `topic name ${describe(topic)} cannot be stored in ${this.name}: its directory ${dir} holds topic ${describe(owner)} (the file system does not tell the two names apart)`);
    }
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
