import { type GlobalArgs, store } from '../global';

export interface CreateArgs extends GlobalArgs {
  containerId: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot: boolean;
  noNewKeyring: boolean;
  preserveFds: number;
}

export async function create(argv: CreateArgs): Promise<void> {
  const { createContainer } = await import('../../container/create');
  await createContainer(store(argv), argv);
}
