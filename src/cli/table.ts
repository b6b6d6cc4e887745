/**
 * Columns laid out as runc's tabwriter does (minimum width 12, padding 3),
 * so that scripts written against `runc list` read `runts list`.
 */
export function formatTable(header: string[], rows: string[][], minWidth = 12, padding = 3): string {
  const all = [header, ...rows];
  const widths = header.map((_, col) => Math.max(minWidth, ...all.map((r) => (r[col] ?? '').length + padding)));
  return all
    .map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col] ?? 0))).join(''))
    .join('\n')
    .concat('\n');
}
