/**
 * runc reads "-" as a flag's value meaning the standard input
 * (`update --resources -`, as go-runc calls it); yargs takes a lone "-"
 * for a positional. Written as --resources=- it stays the flag's value.
 * The flags are those the option table marks `readsStdin`.
 */
import { COMMANDS } from './options';

/** Each such flag as it may be written: --name, -name (runc's single dash), -alias. */
const STDIN_FLAGS = new Set(
  Object.values(COMMANDS).flatMap((command) =>
    Object.entries(command.options)
      .filter(([, option]) => option.readsStdin)
      .flatMap(([name, option]) => [`--${name}`, `-${name}`, ...(option.alias ? [`-${option.alias}`] : [])]),
  ),
);

/** Joins such a flag and its "-", up to the first "--" (after it, the words are left as they are). */
export function joinStdinValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  let i = 0;
  for (; i < argv.length && argv[i] !== '--'; i++) {
    const word = argv[i]!;
    if (STDIN_FLAGS.has(word) && argv[i + 1] === '-') {
      out.push(`${word}=-`);
      i++;
    } else out.push(word);
  }
  return [...out, ...argv.slice(i)];
}
