/**
 * How ffi-rs is loaded. Its package entry finds the native binding with
 * napi-rs's loader, which asks `process.report.getReport()` whether libc is
 * musl: a whole diagnostic report, about 4 ms of the 6-7 ms that requiring
 * 'ffi-rs' takes, paid by create twice (the CLI and the init, both on the
 * way to `created`) and by every exec. runts calls glibc's functions and so
 * runs on glibc only: it loads the glibc binding that the entry would
 * pick (a dependency of ffi-rs) straight away: from the path the build
 * found (RUNTS_FFI_NATIVE, below), else by its package's name. Where that
 * package is missing, the entry is the fallback.
 *
 * Without the entry there is none of its argument rewriting either; the
 * one that runts needs (a Buffer passed as a U8Array must say its length)
 * is `bufferParam` below.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * The glibc binding's file as a path from dist/, found by the build
 * (scripts/build.mjs), or null; undefined where no build defines it (the
 * tests' bundles). Loaded from there, it costs its dlopen only: the
 * package's resolution (its package.json, each path component's realpath)
 * took as long again, about 0.6 ms of every kill.
 */
declare const RUNTS_FFI_NATIVE: string | null | undefined;

function nativeFromBuild(): NativeBinding | undefined {
  if (typeof RUNTS_FFI_NATIVE !== 'string') return undefined;
  const module = { exports: {} as NativeBinding };
  try {
    // What require does for a .node file, without its resolution.
    process.dlopen(module, join(__dirname, RUNTS_FFI_NATIVE));
    return module.exports;
  } catch {
    return undefined; // moved since the build: resolved by name below
  }
}

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
  let native = nativeFromBuild();
  try {
    if (name && !native) native = require(name) as NativeBinding;
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
