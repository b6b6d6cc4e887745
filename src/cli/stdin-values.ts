/**
 * runc reads "-" as a flag's value meaning the standard input
 * (`update --resources -`, as go-runc calls it); yargs takes a lone "-"
 * for a positional. Written as --resources=- it stays the flag's value.
 */
const STDIN_FLAGS = new Set(['--resources', '-r']);

export function joinStdinValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (STDIN_FLAGS.has(argv[i]) && argv[i + 1] === '-') out.push(`${argv[i++]}=-`);
    else out.push(argv[i]);
  }
  return out;
}
