/**
 * `ringbus inspect <dir> [--json]`: topics, segments, offsets, sizes and each group's committed
 * offset and lag; what could not be read is named on stderr (exit status 1).
 *
 * @module
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { inspectStorage, topicDirs, type StorageInspection } from './inspect.js';
import { alive, liveWriter, offsets, Progress, size, type Io } from './internal/cli-io.js';
import { segmentName } from './internal/names.js';
import { segmentsIn } from './internal/scan.js';

/** The bytes of every topic's segments: what the progress line of a scan counts toward. */
function dirBytes(dir: string): number {
  let n = 0;
  for (const { dir: d } of topicDirs(dir).topics) {
    try {
      for (const b of segmentsIn(d)) n += fs.statSync(join(d, segmentName(b, 'log'))).size;
    } catch {
      // reported when the topic is read
    }
  }
  return n;
}

/** Writes to stderr what could not be read; returns how many things. */
function reportProblems(r: StorageInspection, io: Io): number {
  let n = 0;
  const live = liveWriter(r);
  for (const s of r.skipped) {
    io.err(`ringbus: skipped ${s.path}: ${s.reason}\n`);
    n++;
  }
  for (const t of r.topics) {
    for (const s of t.segments) {
      for (const d of s.damaged) {
        if (d.tail && live) continue;
        const where = `ringbus: topic ${JSON.stringify(t.topic)} segment ${s.file}:`;
        if (d.bytes === 0) io.err(`${where} ends at offset ${d.from}, the next segment starts at ${d.to}: ${offsets(d.from, d.to)}\n`);
        else {
          const what = d.tail ? 'not a whole record (a torn write, cut on the next open)' : 'damaged (quarantined on the next open)';
          io.err(`${where} ${d.bytes} byte(s) at byte ${d.position} ${what}: ${offsets(d.from, d.to)}\n`);
        }
        n++;
      }
    }
  }
  return n;
}

function printInspection(r: StorageInspection, io: Io): void {
  const lock = r.lockedBy === undefined ? 'not locked' : `locked by pid ${r.lockedBy}${alive(r.lockedBy) ? '' : ' (stale: that process is gone)'}`;
  io.out(`storage ${r.dir} (${lock}), ${r.topics.length} topic(s)\n`);
  for (const t of r.topics) {
    io.out(`\ntopic ${JSON.stringify(t.topic)}\n`);
    // offsets held by damaged bytes are not readable
    let lost = 0;
    for (const s of t.segments) for (const d of s.damaged) lost += Math.max(0, Math.min(d.to, t.tail) - Math.max(d.from, t.head));
    io.out(`  offsets ${t.head}..${t.tail} (head..tail), ${t.tail - t.head - lost} retained${lost > 0 ? ` (${lost} in damaged bytes)` : ''}, ${t.segments.length} segment(s), ${size(t.bytes)}${t.quarantineBytes > 0 ? `, quarantine.log ${size(t.quarantineBytes)}` : ''}\n`);
    for (const s of t.segments) {
      const damaged = s.damagedBytes > 0 ? `, ${size(s.damagedBytes)} not whole records (repaired on the next open)` : '';
      io.out(`  segment ${s.file}  offsets ${s.first}..${s.end}  ${s.records} record(s)  ${size(s.bytes)}${damaged}\n`);
    }
    if (t.groups.length === 0) io.out('  no durable groups\n');
    for (const g of t.groups) io.out(`  group ${JSON.stringify(g.name)}  committed ${g.committed}  lag ${g.lag}  unsettled deliveries ${g.unsettledDeliveries}\n`);
  }
}

/** Runs `inspect` with its arguments; returns the exit status. */
export function inspectCommand(args: string[], io: Io, usage: string): number {
  const json = args.includes('--json');
  const rest = args.filter((a) => a !== '--json');
  if (rest.length !== 1) {
    io.err(`${usage}\n`);
    return 2;
  }
  const dir = rest[0];
  if (!fs.existsSync(dir)) {
    io.err(`ringbus: no such directory: ${dir}\n`);
    return 1;
  }
  const progress = new Progress(io, 'scanning', dirBytes(dir));
  const r = inspectStorage(dir, (n) => progress.add(n));
  progress.end();
  if (json) io.out(JSON.stringify(r, null, 2) + '\n');
  else printInspection(r, io);
  return reportProblems(r, io) > 0 ? 1 : 0;
}
