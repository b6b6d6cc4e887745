/**
 * What the bench prints and saves: one row per measurement with the
 * median of each subject (runts, runc, the `node -e 0` floor) and the
 * ratios runts/runc and runts/node; the machine it ran on.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release } from 'node:os';
import { type Stats, stats } from './measure';

export type Subject = 'runts' | 'runc' | 'node';
export const SUBJECTS: Subject[] = ['runts', 'runc', 'node'];

export interface Series {
  samples: number[];
  /** Set when a sample failed; sampling of this subject stopped there. */
  error?: string;
}

export interface Row {
  key: string;
  label: string;
  unit: 'ms' | 'MiB' | 'containers/s';
  series: Partial<Record<Subject, Series>>;
  /** What the node column means in this row, when it is not `node -e 0`. */
  floor?: string;
}

export function newRow(key: string, label: string, unit: Row['unit'], floor?: string): Row {
  return { key, label, unit, series: {}, floor };
}

export interface Machine {
  nproc: number;
  cpu: string;
  kernel: string;
  node: string;
  nodePath: string;
  runts: string;
  runc: string | null;
  docker: string | null;
  loadavgBefore: number[];
  loadavgAfter?: number[];
}

function firstLine(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? (r.stdout.split('\n')[0] ?? '').trim() : null;
}

export function machine(nodePath: string, runtsBin: string, runcBin: string | null, docker: boolean): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    nproc: availableParallelism(),
    cpu: (/^model name\s*:\s*(.*)$/m.exec(cpuinfo) ?? [])[1]?.trim() ?? 'unknown',
    kernel: release(),
    node: firstLine(nodePath, ['--version']) ?? process.version,
    nodePath,
    runts: firstLine(runtsBin, ['--version']) ?? 'unknown',
    runc: runcBin ? firstLine(runcBin, ['--version']) : null,
    docker: docker ? firstLine('dockerd', ['--version']) : null,
    loadavgBefore: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

const median = (s?: Series) => (s ? stats(s.samples)?.median : undefined);

function ratio(a?: number, b?: number): number | undefined {
  return a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
}

export function ratios(row: Row): { runtsOverRunc?: number; runtsOverNode?: number } {
  const r = median(row.series.runts);
  return { runtsOverRunc: ratio(r, median(row.series.runc)), runtsOverNode: ratio(r, median(row.series.node)) };
}

function cell(row: Row, who: Subject): string {
  const s = row.series[who];
  if (!s) return '—';
  const m = median(s);
  if (m === undefined) return s.error ? 'error' : '—';
  const digits = row.unit === 'ms' ? (m < 100 ? 1 : 0) : 1;
  const unit = row.unit === 'containers/s' ? '/s' : ` ${row.unit}`;
  return `${m.toFixed(digits)}${unit}${s.error ? '*' : ''}`;
}

const x = (v?: number) => (v === undefined ? '—' : `${v.toFixed(2)}×`);

/** The table as plain text (`markdown`: as a Markdown table). */
export function table(rows: Row[], markdown = false): string {
  const head = ['command', 'runts', 'runc', 'node floor', 'runts/runc', 'runts/node'];
  const body = rows.map((row) => {
    const r = ratios(row);
    const label = markdown ? row.label.replace(/^ +/, '… ') : row.label;
    return [label, cell(row, 'runts'), cell(row, 'runc'), cell(row, 'node'), x(r.runtsOverRunc), x(r.runtsOverNode)];
  });
  if (markdown) {
    const line = (cols: string[]) => `| ${cols.join(' | ')} |`;
    return [line(head), line(head.map((_, i) => (i ? '---:' : '---'))), ...body.map(line)].join('\n');
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cols: string[]) => cols.map((c, i) => (i ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** Notes under the table: what each node column means where it is not `node -e 0`, and every error. */
export function notes(rows: Row[]): string[] {
  const out: string[] = [];
  for (const row of rows) {
    if (row.floor && row.floor !== 'none') out.push(`${row.label.trim()}: node floor = ${row.floor}`);
  }
  for (const row of rows) {
    for (const who of SUBJECTS) {
      const s = row.series[who];
      if (s?.error)
        out.push(`${row.label.trim()}, ${who}${s.samples.length ? ` (* after ${s.samples.length} samples)` : ''}: ${s.error}`);
    }
  }
  return out;
}

export function toJson(rows: Row[]): unknown[] {
  return rows.map((row) => {
    const series: Record<string, (Stats & { samples: number[]; error?: string }) | { samples: number[]; error?: string }> = {};
    for (const who of SUBJECTS) {
      const s = row.series[who];
      if (!s) continue;
      const round = (v: number) => Math.round(v * 1000) / 1000;
      const st = stats(s.samples);
      series[who] = {
        ...(st
          ? {
              n: st.n,
              median: round(st.median),
              min: round(st.min),
              max: round(st.max),
              mean: round(st.mean),
              p90: round(st.p90),
            }
          : {}),
        samples: s.samples.map(round),
        ...(s.error ? { error: s.error } : {}),
      };
    }
    return { key: row.key, label: row.label, unit: row.unit, floor: row.floor ?? 'node -e 0', ...series, ...ratios(row) };
  });
}
