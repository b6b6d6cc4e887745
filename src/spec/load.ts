/** Reading config.json from a bundle and deciding whether runts runs it. */
import { readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError, RuntsError, errorMessage, formatProblem, type Problem } from '../errors';
import { sysctlInOwnNamespaceProblems } from '../linux/sysctl';
import { log } from '../log';
import { type CgroupDriver, deprecations, runtimeProblems } from './checks';
import type { Spec } from './types';
import { schemaProblems } from './validate';

export interface LoadedConfig {
  bundle: string;
  file: string;
  spec: Spec;
  /** Absolute path of root.path. */
  rootfs: string;
}

export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RuntsError(code === 'ENOENT' ? `${file}: no such file` : `${file}: ${errorMessage(err)}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new RuntsError(`${file}: not valid JSON: ${errorMessage(err)}`);
  }
}

export interface Verdict {
  /** Problems that make the document invalid per the official schema. */
  errors: Problem[];
  /** Valid per the schema, but runts cannot run it (or the spec's prose forbids it). */
  unsupported: Problem[];
  /** Runs, but deprecated by the spec. */
  warnings: Problem[];
}

export function judge(doc: unknown, driver?: CgroupDriver): Verdict {
  const errors = schemaProblems(doc);
  if (errors.length) return { errors, unsupported: [], warnings: [] };
  return { errors, unsupported: runtimeProblems(doc as Spec, driver), warnings: deprecations(doc as Spec) };
}

/** What `create` and `run` use: the bundle's config (already read, or read now), or a ConfigError. */
export function loadBundle(
  bundleArg: string,
  doc: unknown = readConfigFile(join(resolve(bundleArg), 'config.json')),
  driver?: CgroupDriver,
): LoadedConfig {
  const bundle = resolve(bundleArg);
  const file = join(bundle, 'config.json');
  const { errors, unsupported, warnings } = judge(doc, driver);
  if (errors.length) throw new ConfigError(errors, file);
  if (unsupported.length) throw new ConfigError(unsupported, file);
  for (const w of warnings) log.warn(`${file}: ${formatProblem(w)}`);
  const spec = doc as Spec;
  // Beyond the config alone: namespace paths compared with the runtime's own.
  const ownNamespace = sysctlInOwnNamespaceProblems(spec.linux?.sysctl ?? {}, spec.linux?.namespaces ?? []);
  if (ownNamespace.length) throw new ConfigError(ownNamespace, file);
  const rootPath = spec.root!.path;
  const rootfs = isAbsolute(rootPath) ? rootPath : join(bundle, rootPath);
  const symlinked = symlinkedRootfs(rootfs);
  if (symlinked) throw new ConfigError([symlinked], file);
  return { bundle, file, spec, rootfs };
}

/**
 * runc's rule: the rootfs, made absolute, must be its own real path. A
 * symlink on the way (the rootfs itself, a directory of the bundle, …)
 * could lead anywhere on the host, and be switched between this check and
 * the mount. A rootfs that is not there is left to the init to report.
 */
function symlinkedRootfs(rootfs: string): Problem | undefined {
  let real: string;
  try {
    real = realpathSync(rootfs);
  } catch {
    return undefined;
  }
  if (real === resolve(rootfs)) return undefined;
  return {
    pointer: '/root/path',
    message: `${rootfs} is a symlink or goes through one (it resolves to ${real}): give the real path`,
  };
}
