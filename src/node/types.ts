/** Public types of `ringbus/node`. */
import type { Codec } from '../codec/types.js';
import type { Storage, StoredMessage, StoreStats, TopicStore } from '../storage.js';

/**
 * Options of {@link fileStorage}.
 *
 * @example
 * ```ts
 * const options: FileStorageOptions = { fsync: 'interval', intervalMs: 50, segmentBytes: 16 << 20 };
 * ```
 */
export interface FileStorageOptions {
  /**
   * When `publish()` resolves. `'always'`: after `fdatasync` (concurrent publishes share one:
   * group commit). `'interval'`: after `write`, with an `fdatasync` every `intervalMs`.
   * `'never'`: after `write`; the OS flushes when it likes. Default: `'always'`.
   */
  readonly fsync?: 'always' | 'interval' | 'never';
  /** Period of the background flush (`'interval'` fsyncs; every mode writes buffered group events and `tryPublish`es). Default: `100`. */
  readonly intervalMs?: number;
  /** A segment file is sealed and a new one started once it would pass this size. From 4096 to 2^31. Default: 64 MiB. */
  readonly segmentBytes?: number;
  /** Whole sealed segments are deleted, oldest first, while a topic's files pass this size and every durable group has settled them. Default: `Infinity`. */
  readonly maxBytes?: number;
  /** How values are encoded on disk when the topic has no codec of its own. Default: `msgpack`. */
  readonly codec?: Codec<any>;
  /** Called once per topic opened, with what recovery found and did. Default: none. */
  readonly onRecovery?: (report: RecoveryReport) => void;
}

/**
 * A damaged region of a segment that recovery moved to the topic's `quarantine.log`.
 *
 * @example
 * ```ts
 * for (const q of report.quarantined) console.warn(`lost offsets ${q.from}..${q.to - 1} (${q.bytes} bytes)`);
 * ```
 */
export interface QuarantinedRange {
  /** Base offset (file name) of the segment. */
  readonly segment: number;
  /** Byte position in the segment where the damage starts. */
  readonly position: number;
  /** Bytes moved out of the segment. */
  readonly bytes: number;
  /** First offset lost. */
  readonly from: number;
  /** One past the last offset lost (`from === to`: garbage between two whole records, nothing lost). */
  readonly to: number;
}

/**
 * What recovery found when it opened a topic (the `onRecovery` callback, `storage.report(topic)`).
 *
 * @example
 * ```ts
 * fileStorage(dir, { onRecovery: (r) => r.quarantined.length && alert(r) });
 * ```
 */
export interface RecoveryReport {
  readonly topic: string;
  /** Segment files scanned. */
  readonly segments: number;
  /** Whole records found (including those below the retained head). */
  readonly records: number;
  /** Records handed to the topic (at or above the head). */
  readonly retained: number;
  /** Next offset. */
  readonly tail: number;
  /** Bytes cut off the end of the last segment (a torn write). */
  readonly truncatedBytes: number;
  /** First offset of the cut tail, when `truncatedBytes > 0`; whole records at the tail with a bad checksum count here. */
  readonly truncatedFrom: number | undefined;
  /** Damaged regions moved to `quarantine.log`. */
  readonly quarantined: readonly QuarantinedRange[];
  /** Segment headers that were damaged and rewritten (their records were kept). */
  readonly headersRepaired: number;
  /** Records whose payload the codec could not decode (skipped, reported). */
  readonly undecodable: readonly number[];
  /**
   * Group journal batches skipped as damaged (their events are lost: deliveries come back);
   * recovery resynchronises on the next whole batch, so the batches after are kept. A damaged
   * `groups.snap` counts as one.
   */
  readonly groupBatchesSkipped: number;
  /** Bytes of the group journal skipped as damaged (a torn tail, cut off, not included). */
  readonly groupBytesSkipped: number;
  /** Milliseconds spent recovering. */
  readonly durationMs: number;
}

/**
 * A {@link Storage} over files, made by {@link fileStorage}.
 *
 * @example
 * ```ts
 * const storage = fileStorage('/var/lib/app/bus');
 * const bus = createBus({ storage });
 * storage.report('orders'); // what recovery did when `orders` opened
 * ```
 */
export interface FileStorage extends Storage {
  /** Opens (recovering) a topic's store in the calling turn: the file system is read synchronously. Throws `StorageError` when it cannot. */
  openSync(topic: string): TopicStore & { readonly recovered: { readonly messages: readonly StoredMessage[] } };
  /** The directory. */
  readonly dir: string;
  /** The recovery report of `topic`, once opened in this process. */
  report(topic: string): RecoveryReport | undefined;
  /** Figures of an open topic's store, or `undefined` when it is not open. */
  stats(topic: string): FileTopicStats | undefined;
}

/**
 * Figures of one open topic store ({@link FileStorage.stats}).
 *
 * @example
 * ```ts
 * const s = storage.stats('orders');
 * console.log(`${s.segments} segments, ${s.bytes} bytes, ${s.records / s.syncs} records per fdatasync`);
 * ```
 */
export interface FileTopicStats extends StoreStats {
  /** Segment files. */
  readonly segments: number;
  /** Bytes of segment files. */
  readonly bytes: number;
  /** Oldest offset still on disk (segments below it were deleted). */
  readonly firstOffset: number;
  /** Next offset. */
  readonly tail: number;
  /** Records appended since open. */
  readonly records: number;
  /** `write` calls of batched records and group events since open. */
  readonly writes: number;
  /** Durability points since open: group commits (`always`) or timer flushes (`interval`), each one round of `fdatasync`s. */
  readonly syncs: number;
  /** The error that stopped the store (every later publish fails with it), if any. */
  readonly failed: Error | undefined;
  /** What recovery did when the topic opened. */
  readonly recovery: RecoveryReport;
}
