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
 * The binding's file is first loaded from where npm puts it, runts' own
 * node_modules beside dist/, by its path: resolving the package with
 * require (package.json reads, a stat per candidate name, realpath) took
 * 1.5 ms of the 2.2 ms that loading it cost a fresh node, on create's
 * critical path (the init's, then the CLI's). Elsewhere (a hoisted
 * install), require finds it.
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

/** The glibc binding's package and its file (napi-rs's names), by architecture. */
const GLIBC_BINDINGS: Readonly<Record<string, readonly [string, string]>> = {
  x64: ['@yuuang/ffi-rs-linux-x64-gnu', 'ffi-rs.linux-x64-gnu.node'],
  arm64: ['@yuuang/ffi-rs-linux-arm64-gnu', 'ffi-rs.linux-arm64-gnu.node'],
};

interface NativeBinding {
  open: FfiRs['open'];
  load: FfiRs['load'];
  DataType: FfiBinding['DataType'];
  FFITypeTag: { Array: number };
}

/** The glibc binding, from runts' own node_modules (see above), else wherever require finds it. */
function loadGlibcBinding(): NativeBinding | undefined {
  const binding = GLIBC_BINDINGS[process.arch];
  if (!binding) return undefined;
  const [name, file] = binding;
  const native = { exports: {} as NativeBinding };
  try {
    process.dlopen(native, decodeURIComponent(new URL(`../node_modules/${name}/${file}`, import.meta.url).pathname));
    return native.exports;
  } catch {
    // Not there: resolved by require.
  }
  try {
    return createRequire(import.meta.url)(name) as NativeBinding;
  } catch {
    // Not installed under this name: the package entry knows where it is.
    return undefined;
  }
}

export function loadFfiBinding(): FfiBinding {
  const native = loadGlibcBinding();
  if (!native) {
    const entry = createRequire(import.meta.url)('ffi-rs') as FfiRs;
    return { open: entry.open, load: entry.load, DataType: entry.DataType, bufferParam: () => entry.DataType.U8Array };
  }
  const { open, load, DataType, FFITypeTag } = native;
  return { open, load, DataType, bufferParam: (length) => ({ ffiTypeTag: FFITypeTag.Array, type: DataType.U8Array, length }) };
}
