import type { CreateOptions } from '../../container/create';
import { sys } from '../../sys/index';
import { type GlobalArgs, store } from '../global';

export type CreateArgs = GlobalArgs & Omit<CreateOptions, 'keepTerminal'>;

export async function create(argv: CreateArgs): Promise<void> {
  const states = store(argv);
  // First thing: the init's node, whose start-up overlaps the loading of create and all that follows (init-start.ts).
  const { beginEarly } = await import('../../container/init-start');
  const begun = beginEarly(sys(), argv);
  // Then, before create's modules load: the cgroup move's wait begins (prime.ts).
  const { primeCgroupMigration } = await import('../../linux/cgroups/prime');
  void primeCgroupMigration();
  const { createContainer } = await import('../../container/create');
  await createContainer(sys(), states, argv, begun);
}
