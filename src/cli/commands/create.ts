import type { CreateOptions } from '../../container/create';
import { sys } from '../../sys/index';
import { type GlobalArgs, store } from '../global';

export type CreateArgs = GlobalArgs & Omit<CreateOptions, 'keepTerminal'>;

export async function create(argv: CreateArgs): Promise<void> {
  const states = store(argv);
  // First thing: the init's node, then the cgroup prime, before create's modules load (init-start.ts).
  const { beginCommand } = await import('../../container/init-start');
  const begun = beginCommand(sys(), argv);
  const { createContainer } = await import('../../container/create');
  await createContainer(sys(), states, argv, begun);
}
