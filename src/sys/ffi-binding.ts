/**
 * How ffi-rs is loaded. Its package entry finds the native binding with
 * napi-rs's loader, which asks `process.report.getReport()` whether libc is
 * musl: a whole diagnostic report, about 4 ms of the 6-7 ms that requiring
 * 'ffi-rs' takes, paid by create twice (the CLI and the init, both on the
 * way to `created`) and by every exec. runts calls glibc's functions and so
 * runs on glibc only: it requires the glibc binding that the entry would
 * pick (a dependency of ffi-rs) straight away, in under 1 ms. Where that
 * package is missing, the entry is the fallback.
 *
 * Without the entry there is none of its argument rewriting either; the
 * one that runts needs (a Buffer passed as a U8Array must say its length)
 * is `bufferParam` below.
 */
import { createRequire } from 'node:module';

type FfiRs = typeof import('ffi-rs');

/** The parts of ffi-rs that runts uses. */
export interface FfiBinding {
  open: FfiRs['open'];
  load: FfiRs['load'];
  DataType: typeof import('ffi-rs').DataType;
  /** A U8Array parameter type for a Buffer of this length. */
  bufferParam(length: number): unknown;
}

const GLIBC_BINDINGS: Readonly<Record<string, string>> = {
  x64: '@yuuang/ffi-rs-linux-x64-gnu',
  arm64: '@yuuang/ffi-rs-linux-arm64-gnu',
};

interface NativeBinding {
  open: FfiRs['open'];
  load: FfiRs['load'];
  DataType: FfiBinding['DataType'];
  FFITypeTag: { Array: number };
}

export function loadFfiBinding(): FfiBinding {
  const require = createRequire(import.meta.url);
  const name = GLIBC_BINDINGS[process.arch];
  let native: NativeBinding | undefined;
  try {
    if (name) native = require(name) as NativeBinding;
  } catch {
    // Not installed under this name: the package entry knows where it is.
  }
  if (!native) {
    const entry = require('ffi-rs') as FfiRs;
    return { open: entry.open, load: entry.load, DataType: entry.DataType, bufferParam: () => entry.DataType.U8Array };
  }
  const { open, load, DataType, FFITypeTag } = native;
  return { open, load, DataType, bufferParam: (length) => ({ ffiTypeTag: FFITypeTag.Array, type: DataType.U8Array, length }) };
}
