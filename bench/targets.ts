/**
 * The performance targets, as data: each is a ratio of medians (or heap figures) taken from one
 * results file, i.e. the same machine at the same time.
 */
import type { CaseReport } from './case.js';

/** The case every msgs/s figure is divided by in the tables and the chart. */
export const BASELINE = 'ring interleaved (cap 1024)';

export interface Target {
  label: string;
  /** The ringbus case. */
  subject: string;
  /** The peer; with several, the fastest of them (the strictest reading). */
  peer: string | string[];
  kind: 'throughput-ratio' | 'heap-ratio' | 'heap-growth';
  /** throughput-ratio: subject/peer ≥ bound. heap-ratio: subject/peer ≤ bound. heap-growth: bytes ≤ bound. */
  bound: number;
  /**
   * A floor case (bench/cases/floors.ts) doing strictly less than the subject must, in the same
   * API shape: floor ÷ peer is the most the subject could reach in the same run (its ceiling).
   */
  floor?: string;
}

export const TARGETS: Target[] = [
  { label: 'values() 1→1 vs Subject.next', subject: 'ringbus values() 1→1', peer: 'rxjs Subject.next', kind: 'throughput-ratio', bound: 1.0 },
  { label: 'values() fan-out 4 vs Subject fan-out 4', subject: 'ringbus values() fan-out 4', peer: 'rxjs Subject fan-out 4', kind: 'throughput-ratio', bound: 1.0 },
  { label: 'messages() ack vs Effect Queue offer/take', subject: 'ringbus messages() ack', peer: 'effect Queue.bounded offer/take', kind: 'throughput-ratio', bound: 3.0 },
  { label: 'messages() ack vs Subject.next', subject: 'ringbus messages() ack', peer: 'rxjs Subject.next', kind: 'throughput-ratio', bound: 0.4 },
  { label: 'messages() ack with instrumentBus (collected every 1 s) vs without', subject: 'ringbus messages() ack + instrumentBus', peer: 'ringbus messages() ack', kind: 'throughput-ratio', bound: 0.97 },
  {
    label: 'publishBatch/recvBatch(100) vs Effect offerAll/takeAll(100)',
    subject: 'ringbus publishBatch(100)/recvBatch(100)',
    peer: ['effect Queue.bounded offerAll(100)/takeAll', 'effect Queue.bounded offerAll(100)/takeBetween(1,100)'],
    kind: 'throughput-ratio',
    bound: 1.0,
    floor: 'floor: bare batch queue of delivery objects',
  },
  { label: 'consume() for-await vs async generator', subject: 'ringbus consume() for-await ack', peer: 'async generator for-await', kind: 'throughput-ratio', bound: 1.0 },
  { label: 'consume() for-await vs it-pushable', subject: 'ringbus consume() for-await ack', peer: 'it-pushable for-await', kind: 'throughput-ratio', bound: 4.0 },
  { label: 'readable() reader vs native ReadableStream reader', subject: 'ringbus readable() reader ack', peer: 'ReadableStream reader (hwm 1024)', kind: 'throughput-ratio', bound: 1.0 },
  { label: 'channel(1024) vs Effect Queue offer/take', subject: 'ringbus channel(1024) send/recv/ack', peer: 'effect Queue.bounded offer/take', kind: 'throughput-ratio', bound: 3.0, floor: 'floor: async channel of deliveries, ack frees the slot' },
  { label: 'messages() ack with 3 priority levels vs without', subject: 'ringbus messages() ack, 3 priorities', peer: 'ringbus messages() ack', kind: 'throughput-ratio', bound: 0.8 },
  {
    label: 'messages() ack with 3 priority levels vs a plain topic publishing with the same option',
    subject: 'ringbus messages() ack, 3 priorities',
    peer: 'ringbus messages() ack, priority option, no levels',
    kind: 'throughput-ratio',
    bound: 0.8,
  },
  { label: "ordering: 'key', 1000 keys, 4 members vs the unordered topic", subject: "ringbus 4 members, 1000 keys, ordering 'key'", peer: 'ringbus 4 members, 1000 keys, unordered', kind: 'throughput-ratio', bound: 0.7 },
  { label: '1M delayed messages scheduled and delivered: heap growth of a round on a full ring', subject: 'ringbus 1M delayed (heap)', peer: [], kind: 'heap-growth', bound: 2 * 1024 * 1024 },
  { label: 'streaming 10M through cap 1024: heap growth after the first 1M', subject: 'ringbus stream 10M cap 1024 (heap)', peer: [], kind: 'heap-growth', bound: 2 * 1024 * 1024 },
  { label: 'retaining 1M: topic heap vs plain Array heap', subject: 'ringbus retain 1M (heap)', peer: 'Array retain 1M (heap)', kind: 'heap-ratio', bound: 2.0 },
  // issue 4: the framed msgpack path within 10 % of raw msgpack
  { label: 'framed msgpack encode+decode vs raw @msgpack/msgpack', subject: 'ringbus codec msgpack framed', peer: 'msgpack encode+decode', kind: 'throughput-ratio', bound: 0.9 },
  // issue 7: durable appends against the physical limit (raw fs loops, same framing) and lmdb
  { label: 'file never ×1000 vs raw batched write loop', subject: 'ringbus file never: publish ×1000 in flight', peer: 'raw fs write batch 1000 (no fsync)', kind: 'throughput-ratio', bound: 0.5 },
  { label: 'file always ×1000 vs raw batch of 1000 + fdatasync', subject: 'ringbus file always: publish ×1000 in flight', peer: 'raw fs write batch 1000 + fdatasync', kind: 'throughput-ratio', bound: 0.5 },
  { label: 'file always ×1000 vs lmdb flushed', subject: 'ringbus file always: publish ×1000 in flight', peer: 'lmdb put ×1000 in flight (flushed)', kind: 'throughput-ratio', bound: 1.0 },
  // issue 28: ringbus/redis against raw node-redis doing the same commands on the same server
  { label: 'redis publish awaited vs node-redis XADD awaited', subject: 'ringbus redis publish awaited', peer: 'node-redis XADD awaited', kind: 'throughput-ratio', bound: 0.9 },
  { label: 'redis publish ×256 in flight vs node-redis XADD ×256', subject: 'ringbus redis publish ×256 in flight', peer: 'node-redis XADD ×256 in flight', kind: 'throughput-ratio', bound: 0.9 },
  { label: 'redis consumer ack vs node-redis XREADGROUP + XACK per batch', subject: 'ringbus redis consumer for-await ack', peer: 'node-redis XREADGROUP + XACK per batch', kind: 'throughput-ratio', bound: 0.9 },
  { label: 'file always, one awaited publish vs raw write + fdatasync per record', subject: 'ringbus file always: one awaited publish at a time', peer: 'raw fs write + fdatasync per record', kind: 'throughput-ratio', bound: 0.8 },
  // issue 27: the NATS engine within 10 % of the raw @nats-io/jetstream client on the same server
  { label: 'nats: publish awaited vs raw jetstream', subject: 'ringbus nats publish awaited', peer: 'raw jetstream publish awaited', kind: 'throughput-ratio', bound: 0.9 },
  { label: 'nats: publish ×256 in flight vs raw jetstream', subject: 'ringbus nats publish ×256 in flight', peer: 'raw jetstream publish ×256 in flight', kind: 'throughput-ratio', bound: 0.9 },
  { label: 'nats: consume() + ack vs raw jetstream consume + ack', subject: 'ringbus nats consume() ack', peer: 'raw jetstream consume+ack', kind: 'throughput-ratio', bound: 0.9 },
  // issue 29, in Chromium: a delivery read and acked through readable() against Blink's own
  // stream reader (both pay Blink's read(), which bounds them); a resolved durable publish against
  // the raw IndexedDB transaction of the same batch and record
  { label: 'browser: readable() reader ack vs native ReadableStream reader', subject: 'browser: ringbus readable() reader ack', peer: 'browser: ReadableStream reader (hwm 1024)', kind: 'throughput-ratio', bound: 0.7 },
  { label: 'browser: indexedDbStorage publish ×1000 vs raw IndexedDB put batch 1000', subject: 'browser: ringbus indexedDbStorage publish ×1000 in flight', peer: 'browser: IndexedDB put batch 1000 (strict)', kind: 'throughput-ratio', bound: 0.2 },
];

export interface TargetOutcome {
  target: Target;
  /** The measured ratio (or bytes); undefined when a case is missing or failed. */
  value?: number;
  /** The peer the ratio was taken against. */
  against?: string;
  /** floor ÷ peer, when the target names a floor that ran. */
  ceiling?: number;
  /**
   * With several processes per case: subject ÷ peer round by round (process i of each ran in
   * round i, next to each other in the paired order), lowest and highest. How far the verdict
   * hangs on which processes drew the VM's slow spells; the verdict itself is `value`.
   */
  rounds?: [number, number];
  status: 'PASS' | 'FAIL' | 'n/a';
  text: string;
}

/** 3 → "3.0", 0.97 → "0.97": a bound as written, never rounded to another one. */
function fmtBound(b: number): string {
  return Number.isInteger(b * 10) ? b.toFixed(1) : String(b);
}

function mib(b: number): string {
  return `${(b / 1024 / 1024).toFixed(2)} MiB`;
}

/** Lowest and highest subject ÷ peer over the rounds both ran in (undefined with one process). */
function roundRatios(s: CaseReport, p: CaseReport): [number, number] | undefined {
  const a = s.procMedians;
  const b = p.procMedians;
  if (a === undefined || b === undefined || a.length < 2 || a.length !== b.length) return undefined;
  const r = a.map((x, i) => x / b[i]);
  return [Math.min(...r), Math.max(...r)];
}

export function evaluateTargets(results: readonly CaseReport[]): TargetOutcome[] {
  const by = new Map(results.filter((r) => r.ok).map((r) => [r.name, r]));
  return TARGETS.map((t): TargetOutcome => {
    const s = by.get(t.subject);
    const peers = (Array.isArray(t.peer) ? t.peer : [t.peer]).map((p) => by.get(p));
    if (t.kind === 'heap-growth') {
      const g = s?.metrics?.heapGrowthBytes;
      if (g === undefined) return { target: t, status: 'n/a', text: `${t.label}: n/a (case not run)` };
      const pass = g <= t.bound;
      return { target: t, value: g, status: pass ? 'PASS' : 'FAIL', text: `${t.label}: ${mib(g)} (target ≤ ${mib(t.bound)}) ${pass ? 'PASS' : 'FAIL'}` };
    }
    if (!s || peers.some((p) => p === undefined)) return { target: t, status: 'n/a', text: `${t.label}: n/a (case not run)` };
    const ps = peers as CaseReport[];
    if (t.kind === 'heap-ratio') {
      const a = s.metrics?.heapBytes;
      const b = ps[0].metrics?.heapBytes;
      if (a === undefined || b === undefined || b <= 0) return { target: t, status: 'n/a', text: `${t.label}: n/a (no heap figure)` };
      const v = a / b;
      const pass = v <= t.bound;
      return { target: t, value: v, against: ps[0].name, status: pass ? 'PASS' : 'FAIL', text: `${t.label}: ${v.toFixed(2)}× (${mib(a)} vs ${mib(b)}; target ≤ ${t.bound}×) ${pass ? 'PASS' : 'FAIL'}` };
    }
    const best = ps.reduce((a, b) => (b.median > a.median ? b : a));
    const v = s.median / best.median;
    const pass = v >= t.bound;
    const against = ps.length > 1 ? ` [vs ${best.name}]` : '';
    const f = t.floor === undefined ? undefined : by.get(t.floor);
    const ceiling = f === undefined ? undefined : f.median / best.median;
    const limit = ceiling === undefined ? '' : ` [ceiling ${ceiling.toFixed(2)}×: ${t.floor}]`;
    const rounds = roundRatios(s, best);
    const spread = rounds === undefined ? '' : ` [rounds ${rounds[0].toFixed(2)}–${rounds[1].toFixed(2)}×]`;
    return { target: t, value: v, against: best.name, ceiling, rounds, status: pass ? 'PASS' : 'FAIL', text: `${t.label}: ${v.toFixed(2)}× (target ≥ ${fmtBound(t.bound)}×)${against}${limit}${spread} ${pass ? 'PASS' : 'FAIL'}` };
  });
}
