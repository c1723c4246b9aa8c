/** Formatting shared by the stdout table (run.ts) and the generated docs (report.ts). */
import type { CaseReport } from '../case.js';

/** The JSON written under bench/results/. */
export interface RunFile {
  version: 1;
  startedAt: string;
  finishedAt: string;
  /** git commit measured ("+dirty": src/ had uncommitted changes). */
  revision?: string;
  quick: boolean;
  filter: string[];
  node: string;
  v8: string;
  platform: string;
  arch: string;
  cpu: string;
  cpus: number;
  n: number;
  reps: number;
  /** Child processes per throughput case, their repetitions pooled (absent in older files: 1). */
  procs?: number;
  warmupMs: number;
  baseline: string;
  skipped: string[];
  skipReason?: string;
  failed: string[];
  results: CaseReport[];
}

export function fmtRate(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (x >= 1e9) return `${(x / 1e9).toFixed(2)}G`;
  if (x >= 1e6) return `${(x / 1e6).toFixed(x >= 1e8 ? 0 : x >= 1e7 ? 1 : 2)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(x >= 1e5 ? 0 : 1)}k`;
  return x.toFixed(0);
}

export function fmtRatio(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (x >= 10) return `${x.toFixed(1)}×`;
  if (x >= 0.1) return `${x.toFixed(3)}×`;
  return `${x.toPrecision(2)}×`;
}

export function fmtMB(bytes: number): string {
  return Number.isFinite(bytes) && bytes > 0 ? (bytes / 1024 / 1024).toFixed(1) : '—';
}

export function ratioTo(r: CaseReport, base: CaseReport | undefined): number {
  return base && base.ok && r.ok ? r.median / base.median : NaN;
}

/** A short text for a memory case's metrics. */
export function fmtMetrics(r: CaseReport): string {
  const m = r.metrics;
  if (!m) return '';
  const parts: string[] = [];
  if (m.heapBytes !== undefined) parts.push(`heap ${fmtMB(m.heapBytes)} MiB (${m.bytesPerMsg.toFixed(1)} B/msg)`);
  if (m.heapGrowthBytes !== undefined) {
    parts.push(`heap at 10% ${fmtMB(m.heapAtFirstSampleBytes)} MiB, at end ${fmtMB(m.heapAtEndBytes)} MiB, growth ${(m.heapGrowthBytes / 1024 / 1024).toFixed(2)} MiB`);
  }
  return parts.join('; ');
}

/** Aligned plain-text table. */
export function textTable(header: string[], rows: string[][], rightAlign: boolean[]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (rightAlign[i] ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ').trimEnd();
  return [line(header), w.map((x) => '-'.repeat(x)).join('  '), ...rows.map(line)].join('\n');
}

export function resultsTable(file: RunFile): string {
  const base = file.results.find((r) => r.name === file.baseline);
  const rows = file.results.map((r) => [
    r.name,
    r.group,
    r.ok ? (r.kind === 'memory' ? fmtRate(r.median) : fmtRate(r.median)) : 'FAILED',
    r.ok ? fmtRate(r.min) : '',
    r.ok ? fmtRate(r.max) : '',
    r.ok && r.kind !== 'memory' ? fmtRatio(ratioTo(r, base)) : '',
    fmtMB(r.peakRssBytes),
  ]);
  return textTable(
    ['case', 'group', 'median/s', 'min/s', 'max/s', '× ring', 'peak RSS MB'],
    rows,
    [false, false, true, true, true, true, true],
  );
}
