/**
 * A session keyring of the container's own (runc's default; `create
 * --no-new-keyring` keeps the caller's). Without it the container's
 * processes share the session keyring of whoever started the runtime
 * (containerd's shim, a login session) and can use the keys in it. runc
 * names it "_ses.<id>" and adds search permission for the owner (the one it
 * needs without a user namespace); exec joins the same keyring by name.
 * A kernel without keyrings (ENOSYS) is no error: the protection is
 * marginal next to the credentials, as runc says too.
 */
import { ENOSYS, KEY_USR_SEARCH } from '../sys/constants';
import { type Sys, SysError } from '../sys/types';

export const sessionKeyringName = (id: string): string => `_ses.${id}`;

/** Joins (or makes) the keyring on the calling thread; returns its serial, or undefined without keyrings. */
export function joinSessionKeyring(sys: Sys, name: string): number | undefined {
  let serial: number;
  try {
    serial = sys.joinSessionKeyring(name);
  } catch (err) {
    if (err instanceof SysError && err.errno === ENOSYS) return undefined;
    throw err;
  }
  const perm = Number.parseInt(sys.describeKey(serial).split(';')[3] ?? '', 16);
  if (!Number.isInteger(perm)) throw new Error(`session keyring ${name}: cannot read its permissions`);
  if ((perm & KEY_USR_SEARCH) === 0) sys.setKeyPermissions(serial, perm | KEY_USR_SEARCH);
  return serial;
}
