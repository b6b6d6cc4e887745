/**
 * The value syntaxes of runc's flags: Go durations (--interval 5s) and
 * docker/go-units sizes (--memory 64m, binary multiples).
 */
import { RuntsError } from '../errors';

const DURATION_UNITS = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 } as const;
type DurationUnit = keyof typeof DURATION_UNITS;

/** A Go duration ("5s", "1m30s", "250ms") in milliseconds. */
export function parseDuration(flag: string, text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== text) {
    throw new RuntsError(`${flag}: ${JSON.stringify(text)} is not a duration (such as 5s, 500ms, 1m30s)`);
  }
  // The pattern's unit alternatives are the table's keys.
  return parts.reduce((ms, [, n, unit]) => ms + Number(n) * DURATION_UNITS[unit as DurationUnit], 0);
}

const SIZE_UNITS = 'kmgtp';

/** A size in bytes, as go-units' RAMInBytes reads it ("64m", "1.5g", "512k", "1048576", "2GiB"). */
export function parseBytes(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?(?:i?b)?$/i.exec(text);
  if (!m) throw new RuntsError(`${flag}: ${JSON.stringify(text)} is not a size (such as 64m, 1g, 1048576)`);
  const power = m[2] ? SIZE_UNITS.indexOf(m[2].toLowerCase()) + 1 : 0;
  return Math.floor(Number(m[1]) * 1024 ** power);
}
