import type { CreateOptions } from '../../container/create';
import { sys } from '../../sys/index';
import { type GlobalArgs, store } from '../global';

export type CreateArgs = GlobalArgs & Omit<CreateOptions, 'keepTerminal'>;

export async function create(argv: CreateArgs): Promise<void> {
  const states = store(argv);
  // First thing: the init's node, then the cgroup prime, before create's modules load (init-start.ts).
  // (bin/runts has usually taken them already: dist/begin.cjs, src/cli/begin.ts.)
  const { beginCommand, takeEarlyBegun } = await import('../../container/init-start');
  const begun = takeEarlyBegun() ?? beginCommand(sys(), argv);
  const { createContainer } = await import('../../container/create');
  await createContainer(sys(), states, argv, begun);
}
