/**
 * `ringbus/node`: durable topics on the local file system. {@link fileStorage} is a
 * `Storage` (`createBus({ storage })` or `bus.topic(name, { storage })`): a segmented,
 * CRC-checked append-only log per topic, durable consumer groups, crash recovery, and a
 * `ringbus` CLI to inspect and tail it. Node only (`node:fs`); pure TypeScript, no native code.
 *
 * @example
 * ```ts
 * import { createBus } from 'ringbus';
 * import { fileStorage } from 'ringbus/node';
 *
 * const bus = createBus({ storage: fileStorage('./data') });
 * const orders = bus.topic<Order>('orders', { groups: ['billing'] });
 * await orders.publish(order); // resolves once fdatasync'ed
 * ```
 *
 * @module
 */
import { createFileStorage } from './internal/file-storage.js';
import type { FileStorage, FileStorageOptions } from './types.js';

export type { FileStorage, FileStorageOptions, FileTopicStats, QuarantinedRange, RecoveryReport } from './types.js';
export { FORMAT_VERSION } from './internal/record.js';
export { inspectStorage, type StorageInspection, type TopicInspection, type SegmentInspection, type GroupInspection } from './inspect.js';

/**
 * Creates a file `Storage` rooted at `dir` (created if missing). Options are checked
 * now; the directory is locked for this process when the first topic opens, and released when
 * the last one closes (`bus.close()`).
 *
 * Each topic lives in `dir/topics/<name>/`: segment files of CRC-framed records with a sparse
 * offset index, a group journal with snapshots, and `quarantine.log` for damaged regions that
 * recovery moved aside. The format is in docs/storage.md.
 *
 * Names are kept exactly or refused: a topic whose directory name would pass 255 bytes is a
 * `ConfigError` at `topic()` (docs/storage.md, Names).
 *
 * @param dir - The storage directory; one storage object at a time, however the path is spelled
 * (another process gets `StorageError` naming the pid holding it; another `fileStorage` in this
 * process, one naming both paths).
 * @param options - `fsync` (`'always'`), `intervalMs` (100), `segmentBytes` (64 MiB),
 * `maxBytes` (`Infinity`), `codec` (msgpack), `onRecovery`.
 * @throws ConfigError when an option is invalid.
 * @example
 * ```ts
 * const storage = fileStorage('/var/lib/app/bus', {
 *   fsync: 'always',
 *   onRecovery: (r) => r.quarantined.length > 0 && console.warn('damaged records', r.quarantined),
 * });
 * const bus = createBus({ storage });
 * const jobs = bus.topic<Job>('jobs', { groups: ['workers'] });
 * for await (const d of jobs.consumer({ group: 'workers' })) { await run(d.value); d.ack(); }
 * await bus.close(); // flushes and releases the directory
 * ```
 */
export function fileStorage(dir: string, options?: FileStorageOptions): FileStorage {
  return createFileStorage(dir, options);
}

export { serveDashboard, type DashboardOptions, type DashboardServer, type StatsSource } from './dashboard.js';
