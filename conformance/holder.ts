/**
 * A host process sitting in namespaces of its own (util-linux unshare),
 * for cases that join existing namespaces through linux.namespaces[].path.
 * It is killed at the case's cleanup.
 */
import { spawn } from 'node:child_process';
import { fail } from './case';
import { readOr, waitFor } from './host';
import type { Trial } from './trial';

/** Starts `unshare FLAGS --fork sleep`; resolves to the pid whose namespaces are the new ones. */
export async function namespaceHolder(t: Trial, flags: string[]): Promise<number> {
  const child = spawn('unshare', [...flags, '--fork', '--kill-child', 'sleep', '600'], { stdio: 'ignore' });
  t.onCleanup(() => {
    child.kill('SIGKILL');
  });
  await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  // With --fork, the namespaces are those of unshare's child.
  let pid = 0;
  const found = await waitFor(() => {
    pid = Number(readOr(`/proc/${child.pid}/task/${child.pid}/children`).trim().split(' ')[0] || 0);
    return pid > 0;
  });
  if (!found) fail(`unshare ${flags.join(' ')} did not start its child`);
  return pid;
}
