import type { RunOptions } from '../../container/run';
import { sys } from '../../sys/index';
import { type GlobalArgs, store } from '../global';

export type RunArgs = GlobalArgs & RunOptions;

export async function run(argv: RunArgs): Promise<void> {
  // First thing, before create's modules load: the cgroup move's wait begins (prime.ts).
  const { primeCgroupMigration } = await import('../../linux/cgroups/prime');
  void primeCgroupMigration();
  // Then the init's node, whose start-up overlaps the loading of create and all that follows (init-start.ts).
  const states = store(argv);
  const { beginEarly } = await import('../../container/init-start');
  const begun = beginEarly(sys(), { ...argv, keepTerminal: !argv.detach });
  const { runContainer } = await import('../../container/run');
  process.exitCode = await runContainer(sys(), states, argv, begun);
}
