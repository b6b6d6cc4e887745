/**
 * npm run bench -- --profile: where one `runts run` of /bin/true spends its
 * time, from the marks runts writes when RUNTS_PROFILE names a file
 * (src/profile.ts): one line per mark, "<ns> <pid> <who> <what>", the time
 * on CLOCK_MONOTONIC, which the bench, the CLI and the init share. The bench
 * adds its own two (spawn, reaped). Each mark's figure is the median over
 * the runs of its time since the bench's spawn; the timeline lists them in
 * that order, with the step from the line before.
 */
import { stats } from './measure';

export interface Mark {
  ns: bigint;
  pid: number;
  who: string;
  what: string;
}

/** The marks of one run, in time order. */
export function parseMarks(text: string): Mark[] {
  const marks: Mark[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+) (\d+) (\S+) (.+)$/.exec(line);
    if (m) marks.push({ ns: BigInt(m[1]!), pid: Number(m[2]), who: m[3]!, what: m[4]! });
  }
  return marks.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
}

export interface TimelineLine {
  who: string;
  what: string;
  /** Median ms since the first mark of each run. */
  at: number;
  /** In how many of the runs the mark was seen. */
  seen: number;
}

/** The median timeline of several runs, each measured from its own first mark. */
export function timeline(runs: Mark[][]): TimelineLine[] {
  const offsets = new Map<string, { who: string; what: string; ms: number[] }>();
  for (const marks of runs) {
    const t0 = marks[0]?.ns;
    if (t0 === undefined) continue;
    for (const m of marks) {
      const key = `${m.who} ${m.what}`;
      const entry = offsets.get(key) ?? { who: m.who, what: m.what, ms: [] };
      entry.ms.push(Number(m.ns - t0) / 1e6);
      offsets.set(key, entry);
    }
  }
  return [...offsets.values()]
    .map(({ who, what, ms }) => ({ who, what, at: stats(ms)!.median, seen: ms.length }))
    .sort((a, b) => a.at - b.at);
}

export function formatTimeline(lines: TimelineLine[], runs: number): string {
  const width = Math.max(...lines.map((l) => `${l.who} ${l.what}`.length));
  const out = [`${'mark'.padEnd(width)}   ms since spawn    step`];
  let previous = 0;
  for (const l of lines) {
    const missing = l.seen < runs ? `   (in ${l.seen} of ${runs} runs)` : '';
    out.push(
      `${`${l.who} ${l.what}`.padEnd(width)}   ${l.at.toFixed(2).padStart(14)}  ${`+${(l.at - previous).toFixed(2)}`.padStart(6)}${missing}`,
    );
    previous = l.at;
  }
  return out.join('\n');
}
