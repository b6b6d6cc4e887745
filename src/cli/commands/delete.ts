import { type GlobalArgs, store } from '../global';

interface DeleteArgs extends GlobalArgs {
  containerId: string;
  force: boolean;
}

export async function deleteCommand(argv: DeleteArgs): Promise<void> {
  const { deleteContainer } = await import('../../container/delete');
  await deleteContainer(store(argv), argv.containerId, { force: argv.force });
}
