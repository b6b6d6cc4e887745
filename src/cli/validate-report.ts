import { formatProblem } from '../errors';
import { printErr, printOut } from '../output';
import type { CgroupDriver } from '../spec/checks';
import { judge, readConfigFile } from '../spec/load';
import { schemaDescription } from '../spec/version';

/**
 * `runts validate`: 1 with every schema violation on its own line, else 0
 * with what runts could not run printed as warnings. Either way it names the
 * schema it checked against: an older copy checks newer fields less.
 */
export function validateCommandLine(file: string, driver: CgroupDriver): number {
  const { errors, unsupported, warnings } = judge(readConfigFile(file), driver);
  for (const p of errors) printErr(`${file}: ${formatProblem(p)}\n`);
  for (const p of [...unsupported, ...warnings]) printErr(`${file}: warning: ${formatProblem(p)}\n`);
  if (errors.length) {
    printErr(`schema: ${schemaDescription()}\n`);
    return 1;
  }
  printOut(`${file}: valid${unsupported.length ? ` (runts cannot run it as is: ${unsupported.length} warning(s))` : ''}\n`);
  printOut(`schema: ${schemaDescription()}\n`);
  return 0;
}
