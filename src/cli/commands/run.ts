import type { RunOptions } from '../../container/run';
import { sys } from '../../sys/index';
import { type GlobalArgs, store } from '../global';

export type RunArgs = GlobalArgs & RunOptions;

export async function run(argv: RunArgs): Promise<void> {
  const states = store(argv);
  // First thing: the init's node, whose start-up overlaps the loading of create and all that follows (init-start.ts).
  const { beginEarly } = await import('../../container/init-start');
  const begun = beginEarly(sys(), { ...argv, keepTerminal: !argv.detach });
  // Then, before create's modules load: the cgroup move's wait begins (prime.ts).
  const { primeCgroupMigration } = await import('../../linux/cgroups/prime');
  void primeCgroupMigration();
  const { runContainer } = await import('../../container/run');
  process.exitCode = await runContainer(sys(), states, argv, begun);
}
