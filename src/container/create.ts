/** runtime.md "Create": placeholder until the lifecycle lands ([2/7]). */
import type { CreateArgs } from '../cli/commands/create';
import { RuntsError } from '../errors';
import { loadBundle } from '../spec/load';
import { checkContainerId } from '../state/id';
import type { StateStore } from '../state/store';

export async function createContainer(_store: StateStore, args: CreateArgs): Promise<void> {
  checkContainerId(args.containerId);
  loadBundle(args.bundle);
  throw new RuntsError('create: not implemented yet');
}
