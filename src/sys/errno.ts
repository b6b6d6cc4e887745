/**
 * The system's text for an errno ("No such file or directory"): libuv's,
 * from the map that node's getSystemErrorMap() builds anew at each call
 * (25 µs, 190 µs the first time; a container's init reports a dozen
 * ENOENTs it expects, a missing masked path each): built once here.
 */
import { getSystemErrorMap } from 'node:util';

let texts: Map<number, [string, string]> | undefined;

/** The text for errno (positive, as the kernel's), or undefined for one libuv does not know. */
export function errnoDescription(errno: number): string | undefined {
  texts ??= getSystemErrorMap();
  return texts.get(-errno)?.[1];
}

/** errnoDescription, or "errno N". */
export const strerror = (errno: number): string => errnoDescription(errno) ?? `errno ${errno}`;
