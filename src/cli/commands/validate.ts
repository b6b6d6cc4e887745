import type { GlobalArgs } from '../global';

interface ValidateArgs extends GlobalArgs {
  bundle?: string;
  file?: string;
}

export async function validate(argv: ValidateArgs): Promise<void> {
  const { validateCommandLine } = await import('../../spec/validate-command');
  process.exitCode = validateCommandLine(argv.file ?? `${argv.bundle ?? '.'}/config.json`);
}
