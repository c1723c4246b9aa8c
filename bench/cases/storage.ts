/**
 * Durable append throughput (issue 7): `ringbus/node` file storage per fsync mode, against the
 * physical limit — a raw `fs` loop writing the very same record framing (msgpack frame of the
 * message + the segment record header and CRC) — and against `lmdb` at equal durability.
 *
 * Figures are publishes (records) per second; a publish counts once its promise resolved (once
 * `fdatasync` returned, for `always`). Every trial writes to a fresh directory under the OS temp
 * directory, deleted afterwards (untimed).
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sink, type Case, type Msg, type Trial } from '../lib/harness.js';
import { requireRingbus } from '../lib/ringbus.js';
import { IN_FLIGHT, publishInFlight, type PublishingTopic } from '../lib/durable.js';

/** Through a variable, so the type-check does not need lmdb installed. */
const LMDB: string = 'lmdb';

/** The slice of lmdb's API the peer uses. */
interface LmdbModule {
  open(options: { path: string; compression: boolean }): { put(key: number, value: Msg): Promise<boolean>; close(): Promise<void> };
}

type StorageTopic = PublishingTopic;
interface StorageBus {
  topic<T>(name: string, opts?: object): StorageTopic & { _t?: T };
  close(): Promise<void>;
}

function freshDir(): string {
  return mkdtempSync(join(tmpdir(), 'ringbus-bench-'));
}

async function fileTopic(fsync: 'always' | 'interval' | 'never'): Promise<{ topic: StorageTopic; dispose(): Promise<void> }> {
  const { createBus } = (await requireRingbus()) as unknown as { createBus(o: object): StorageBus };
  const { fileStorage } = await import('../../src/node/index.js');
  const dir = freshDir();
  const bus = createBus({ storage: fileStorage(dir, { fsync }) });
  const topic = bus.topic<Msg>('bench', { capacity: 1024 });
  return {
    topic,
    async dispose() {
      await bus.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The raw loop's framing: exactly what the file store writes per publish. */
async function rawFramer(): Promise<{ batch: { buf: Buffer; used: number; reset(): void }; frame(i: number): void }> {
  const { Batch, writeRecord, writeSegmentHeader } = await import('../../src/node/internal/record.js');
  const { createFramer } = await import('../../src/codec/frame.js');
  const { msgpack } = await import('../../src/codec/msgpack.js');
  const framer = createFramer<Msg>({ codec: msgpack });
  const batch = new Batch();
  writeSegmentHeader(batch, 0);
  const empty = Object.freeze({});
  const now = Date.now();
  return {
    batch,
    frame(i: number) {
      writeRecord(batch, i, now, Infinity, undefined, empty, framer.encode({ id: i, v: 'x' }), false);
    },
  };
}

function writeAll(fd: number, b: { buf: Buffer; used: number }): void {
  let done = 0;
  while (done < b.used) done += writeSync(fd, b.buf, done, b.used - done);
}

/** A raw loop over a fresh file: frame `per` records, write them, optionally fdatasync. */
async function rawLoop(n: number, per: number, sync: boolean): Promise<Trial> {
  const dir = freshDir();
  const fd = openSync(join(dir, 'raw.log'), 'w');
  const f = await rawFramer();
  const sink = new Sink();
  return {
    run() {
      for (let i = 0; i < n; ) {
        const end = Math.min(n, i + per);
        for (let k = i; k < end; k++) f.frame(k);
        writeAll(fd, f.batch);
        f.batch.reset();
        if (sync) fdatasyncSync(fd);
        for (; i < end; i++) sink.takeId(i);
      }
      return sink.result();
    },
    dispose() {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const big = (base: number, quick: boolean) => (quick ? 2000 : Math.min(base, 200_000));
const synced = (base: number, quick: boolean) => (quick ? 2000 : Math.min(base, 50_000));
const single = (_base: number, quick: boolean) => (quick ? 20 : 300);

export const storageCases: Case[] = [
  {
    name: 'raw fs write batch 1000 (no fsync)',
    group: 'storage',
    note: 'physical limit of fsync never: frame 1000 records (msgpack + record header + CRC), one writeSync',
    size: big,
    prepare: (n) => rawLoop(n, IN_FLIGHT, false),
  },
  {
    name: 'raw fs write batch 1000 + fdatasync',
    group: 'storage',
    note: 'physical limit of group commit: frame 1000 records, one writeSync, one fdatasync',
    size: synced,
    prepare: (n) => rawLoop(n, IN_FLIGHT, true),
  },
  {
    name: 'raw fs write + fdatasync per record',
    group: 'storage',
    note: 'physical limit of one awaited durable publish: frame one record, writeSync, fdatasync',
    size: single,
    prepare: (n) => rawLoop(n, 1, true),
  },
  {
    name: 'lmdb put ×1000 in flight (flushed)',
    group: 'storage',
    // lmdb is not a devDependency: its optional native packages are missing from this registry,
    // which breaks `npm ci`. Install it to run this peer: `npm i --no-save lmdb`.
    requires: 'lmdb',
    note: 'lmdb default (durable: each commit synced), 1000 puts of { id, v } in flight, await all',
    size: synced,
    async prepare(n): Promise<Trial> {
      const { open } = (await import(LMDB)) as LmdbModule;
      const dir = freshDir();
      const db = open({ path: dir, compression: false });
      const sink = new Sink();
      return {
        async run() {
          const batch: Promise<boolean>[] = [];
          for (let i = 0; i < n; ) {
            const start = i;
            const end = Math.min(n, i + IN_FLIGHT);
            batch.length = 0;
            for (; i < end; i++) batch.push(db.put(i, { id: i, v: 'x' }));
            await Promise.all(batch);
            for (let k = start; k < end; k++) sink.takeId(k);
          }
          return sink.result();
        },
        async dispose() {
          await db.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  ...(['never', 'interval', 'always'] as const).map(
    (mode): Case => ({
      name: `ringbus file ${mode}: publish ×1000 in flight`,
      group: 'storage',
      note: `fileStorage({ fsync: '${mode}' }), topic(cap 1024, no group): 1000 publish() promises in flight, await all, repeat`,
      size: mode === 'always' ? synced : big,
      async prepare(n): Promise<Trial> {
        const { topic, dispose } = await fileTopic(mode);
        const sink = new Sink();
        return {
          async run() {
            await publishInFlight(topic, n, sink);
            return sink.result();
          },
          dispose,
        };
      },
    }),
  ),
  {
    name: 'ringbus file always: one awaited publish at a time',
    group: 'storage',
    note: "fileStorage({ fsync: 'always' }): await publish() before the next (one fdatasync each)",
    size: single,
    async prepare(n): Promise<Trial> {
      const { topic, dispose } = await fileTopic('always');
      const sink = new Sink();
      return {
        async run() {
          for (let i = 0; i < n; i++) {
            await topic.publish({ id: i, v: 'x' });
            sink.takeId(i);
          }
          return sink.result();
        },
        dispose,
      };
    },
  },
];
