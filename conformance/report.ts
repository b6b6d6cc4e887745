/**
 * What a run prints: TAP (one line per case, a YAML block for failures)
 * and summary tables, per spec section and per level, with the reasons
 * for skips. And the comparison of two runtimes, case by case.
 */
import type { Case, Level } from './case';
import type { Result } from './suite';

const title = (c: Case) => `${c.id} [${c.level}] ${c.file} "${c.section}"`;
const yamlString = (s: string) => JSON.stringify(s);

export function tapHeader(count: number): string {
  return `TAP version 13\n1..${count}`;
}

export function tapLine(r: Result, index: number): string {
  const n = index + 1;
  if (r.status === 'skip') return `ok ${n} - ${title(r.case)} # SKIP ${r.reason}`;
  if (r.status === 'pass') return `ok ${n} - ${title(r.case)}`;
  return [
    `not ok ${n} - ${title(r.case)}`,
    '  ---',
    `  requirement: ${yamlString(r.case.text)}`,
    `  reason: ${yamlString(r.reason ?? '')}`,
    '  ...',
  ].join('\n');
}

/** A plain text table, columns padded to their widest cell. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

interface Counts {
  pass: number;
  fail: number;
  skip: number;
  reasons: Map<string, number>;
}

function tally<K>(results: Result[], key: (r: Result) => K): Map<K, Counts> {
  const groups = new Map<K, Counts>();
  for (const r of results) {
    const k = key(r);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { pass: 0, fail: 0, skip: 0, reasons: new Map() }));
    g[r.status] += 1;
    if (r.status === 'skip') g.reasons.set(r.reason!, (g.reasons.get(r.reason!) ?? 0) + 1);
  }
  return groups;
}

const reasonsText = (g: Counts) => [...g.reasons].map(([reason, n]) => `${reason} (${n})`).join('; ');

/** Distinct requirements covered: cases that check the same sentence count once. */
export const requirementCount = (cases: Case[]) => new Set(cases.map((c) => `${c.file}\0${c.section}\0${c.text}`)).size;

export function summary(runtime: string, results: Result[]): string {
  const bySection = tally(results, (r) => `${r.case.file}\0${r.case.section}`);
  const sectionRows = [...bySection].map(([key, g]) => [
    ...key.split('\0'),
    String(g.pass),
    String(g.fail),
    String(g.skip),
    reasonsText(g),
  ]);
  const byLevel = tally(results, (r) => r.case.level);
  const levelRows = (['MUST', 'SHOULD', 'MAY'] as Level[])
    .filter((l) => byLevel.has(l))
    .map((l) => {
      const g = byLevel.get(l)!;
      return [l, String(g.pass), String(g.fail), String(g.skip)];
    });
  const total = tally(results, () => 'all').get('all') ?? { pass: 0, fail: 0, skip: 0, reasons: new Map() };
  return [
    `# runtime: ${runtime}`,
    `# ${results.length} cases, ${requirementCount(results.map((r) => r.case))} distinct requirements`,
    '',
    table(['spec file', 'section', 'passed', 'failed', 'skipped', 'skip reasons'], sectionRows),
    '',
    table(
      ['level', 'passed', 'failed', 'skipped'],
      [...levelRows, ['total', String(total.pass), String(total.fail), String(total.skip)]],
    ),
  ].join('\n');
}

export interface Difference {
  case: Case;
  a: Result;
  b: Result;
}

/** Cases whose outcome differs between two runs of the same cases. */
export function differences(a: Result[], b: Result[]): Difference[] {
  const other = new Map(b.map((r) => [r.case.id, r]));
  return a.flatMap((ra) => {
    const rb = other.get(ra.case.id);
    return rb && rb.status !== ra.status ? [{ case: ra.case, a: ra, b: rb }] : [];
  });
}

const outcome = (r: Result): string => (r.status === 'pass' ? 'pass' : `${r.status}: ${r.reason}`);

export function comparison(nameA: string, nameB: string, diffs: Difference[]): string {
  if (!diffs.length) return `# ${nameA} and ${nameB}: same outcome on every case`;
  const rows = diffs.map((d) => [d.case.id, d.case.level, short(outcome(d.a)), short(outcome(d.b))]);
  return [`# ${diffs.length} cases where ${nameA} and ${nameB} differ`, '', table(['case', 'level', nameA, nameB], rows)].join(
    '\n',
  );
}

const short = (s: string, max = 110) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
