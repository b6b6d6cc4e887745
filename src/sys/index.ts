/**
 * The process-wide Sys. Importing this module is free: ffi-rs and libc are
 * loaded on the first sys() call, so commands that make no system call
 * (spec, state, …) never pay for them.
 */
import { FfiSys } from './ffi';
import type { Sys } from './types';

export { type CapabilitySets, type Sys, SysError } from './types';

let instance: Sys | undefined;

export function sys(): Sys {
  instance ??= new FfiSys();
  return instance;
}
