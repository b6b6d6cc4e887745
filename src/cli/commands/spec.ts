import type { GlobalArgs } from '../global';

interface SpecArgs extends GlobalArgs {
  bundle: string;
}

export async function spec(argv: SpecArgs): Promise<void> {
  const { writeDefaultSpec } = await import('../write-default-spec');
  writeDefaultSpec(argv.bundle || '.');
}
