import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RuntsError } from '../errors';
import { defaultSpec } from '../spec/default-spec';

/** `runts spec`: writes runc's default config.json, refusing to overwrite one. */
export function writeDefaultSpec(bundle: string): void {
  const file = join(bundle, 'config.json');
  try {
    writeFileSync(file, JSON.stringify(defaultSpec(), null, '\t') + '\n', { flag: 'wx', mode: 0o666 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new RuntsError(`File ${file} exists. Remove it first`);
    if (code === 'ENOENT') throw new RuntsError(`bundle directory ${bundle} does not exist`);
    throw err;
  }
}
