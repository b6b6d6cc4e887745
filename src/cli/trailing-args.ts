/**
 * `exec ID cmd -c …` and `ps ID -ef`: everything after the container id
 * belongs to the command, not to runts, as with runc (Go's flag parsing
 * stops at the first non-flag). This finds the id of a command the table
 * marks `trailing` and puts "--" after it, before either parser reads the words.
 */
import { COMMANDS, type CommandName, findCommand, findOption, flagKey, isFlag, takesValue } from './options';

/** Index of the first word that is not a flag or a flag's value, from `from`. */
function firstPositional(argv: readonly string[], from: number, command?: CommandName): number {
  for (let i = from; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') return i + 1 < argv.length ? i + 1 : -1;
    if (!isFlag(word)) return i;
    const found = findOption(flagKey(word), command);
    if (found && takesValue(found[1]) && !word.includes('=')) i++;
  }
  return -1;
}

export function separateTrailingArgs(argv: readonly string[]): string[] {
  const commandAt = firstPositional(argv, 0);
  const command = commandAt < 0 ? undefined : findCommand(argv[commandAt]!);
  if (!command || !COMMANDS[command].trailing) return [...argv];
  const idAt = firstPositional(argv, commandAt + 1, command);
  if (idAt < 0 || idAt + 1 >= argv.length || argv[idAt + 1] === '--') return [...argv];
  const words = argv.slice(0, idAt + 1).filter((w, i) => !(w === '--' && i > commandAt));
  return [...words, '--', ...argv.slice(idAt + 1)];
}
