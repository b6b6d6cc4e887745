/**
 * `exec ID cmd -c …` and `ps ID -ef`: everything after the container id
 * belongs to the command, not to runts, as with runc (Go's flag parsing
 * stops at the first non-flag). This finds the id and puts "--" after it,
 * before yargs sees the words.
 */

/** Flags that take a value, per command (the global ones apply before the command). */
const VALUE_FLAGS: Readonly<Record<string, readonly string[]>> = {
  '': ['root', 'log', 'log-format', 'rootless', 'criu'],
  exec: ['console-socket', 'cwd', 'env', 'e', 'user', 'u', 'additional-gids', 'g', 'process', 'p', 'pid-file', 'process-label', 'apparmor', 'cap', 'c', 'preserve-fds', 'cgroup'],
  ps: ['format', 'f'],
};

/** Index of the first word that is not a flag or a flag's value, from `from`. */
function firstPositional(argv: readonly string[], from: number, valueFlags: readonly string[]): number {
  for (let i = from; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') return i + 1 < argv.length ? i + 1 : -1;
    if (!word.startsWith('-') || word === '-') return i;
    const name = word.replace(/^--?/, '');
    if (!name.includes('=') && valueFlags.includes(name)) i++;
  }
  return -1;
}

export function separateTrailingArgs(argv: readonly string[]): string[] {
  const commandAt = firstPositional(argv, 0, VALUE_FLAGS['']);
  if (commandAt < 0 || !(argv[commandAt] in VALUE_FLAGS) || argv[commandAt] === '') return [...argv];
  const idAt = firstPositional(argv, commandAt + 1, VALUE_FLAGS[argv[commandAt]]);
  if (idAt < 0 || idAt + 1 >= argv.length || argv[idAt + 1] === '--') return [...argv];
  const words = argv.slice(0, idAt + 1).filter((w, i) => !(w === '--' && i > commandAt));
  return [...words, '--', ...argv.slice(idAt + 1)];
}
