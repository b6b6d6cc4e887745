import type { RunOptions } from '../../container/run';
import { sys } from '../../sys/index';
import { type GlobalArgs, store } from '../global';

export type RunArgs = GlobalArgs & RunOptions;

export async function run(argv: RunArgs): Promise<void> {
  const states = store(argv);
  // First thing: the init's node, then the cgroup prime, before create's modules load (init-start.ts).
  // (bin/runts has usually taken them already: dist/begin.cjs, src/cli/begin.ts.)
  const { beginCommand, takeEarlyBegun } = await import('../../container/init-start');
  const begun = takeEarlyBegun() ?? beginCommand(sys(), { ...argv, keepTerminal: !argv.detach });
  const { runContainer } = await import('../../container/run');
  process.exitCode = await runContainer(sys(), states, argv, begun);
}
