import type { GlobalArgs } from '../global';

interface ValidateArgs extends GlobalArgs {
  bundle?: string;
  file?: string;
}

export async function validate(argv: ValidateArgs): Promise<void> {
  const { validateCommandLine } = await import('../validate-report');
  process.exitCode = validateCommandLine(argv.file ?? `${argv.bundle ?? '.'}/config.json`, argv);
}
