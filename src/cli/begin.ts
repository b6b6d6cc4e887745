/**
 * dist/begin.cjs: the first steps of `runts create` and `runts run`, loaded
 * by bin/runts.cjs before the CLI bundle. The container's init is spawned
 * here (init-start.ts beginCommand): its node start-up is the longest step
 * of create, and it then overlaps the loading of the CLI bundle (several
 * ms), not only that of create's modules. So this bundle holds only what
 * the spawn needs: the words parsed as the CLI parses them (fast-path.ts),
 * init-start.ts and src/sys.
 *
 * For a plain config the launcher (src/native/launch-init.c) has spawned
 * the init already, before node started: here it is adopted when it is
 * the init this spawn would make (init-start.ts startInit), and killed
 * otherwise.
 *
 * The two bundles share no module: what was begun reaches the CLI's create
 * or run through a global (init-start.ts: leaveEarlyBegun, takeEarlyBegun). Anything out of the ordinary
 * (words the fast path leaves to yargs, a config that cannot be read, a
 * spawn that fails) leaves nothing begun, and the CLI does it all as
 * before, with its own messages.
 */
import { beginCommand, dropLaunchedInit, leaveEarlyBegun, takeLaunchedInit } from '../container/init-start';
import { sys } from '../sys/index';
import { fastParse } from './fast-path';
import { normalizeArgv } from './normalize';
import type { CreateArgs } from './commands/create';
import type { RunArgs } from './commands/run';

function beginFromWords(argv: string[]): void {
  const s = sys();
  // The init the launcher spawned, if it did: adopted by beginCommand when
  // it is the one create would spawn, killed otherwise (with nothing begun too).
  const launched = takeLaunchedInit(s);
  try {
    const fast = fastParse(normalizeArgv(argv));
    if (fast?.command !== 'create' && fast?.command !== 'run') return;
    const args = fast.args as unknown as CreateArgs & Partial<RunArgs>;
    const begun = beginCommand(s, {
      ...args,
      keepTerminal: fast.command === 'run' && !args.detach,
      ...(launched ? { launched } : {}),
    });
    if (begun) leaveEarlyBegun(begun);
  } catch {
    // The CLI's create tries again, and says what is wrong.
  } finally {
    if (launched) dropLaunchedInit(s, launched);
  }
}

beginFromWords(process.argv.slice(2));
