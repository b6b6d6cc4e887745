/**
 * linux.intelRdt (config-linux.md "IntelRdt", runtime-spec 1.3) through
 * resctrl: the container's class of service is a directory of the resctrl
 * filesystem (closID, else the container id), its schemata written there
 * (l3CacheSchema, memBwSchema, then the schemata lines, last), the init
 * added to its tasks, and with enableMonitoring a monitoring group
 * mon_groups/<container id> holding it too. Delete removes what create
 * made; a closID directory that was there before is the host's, and stays.
 *
 * Every file is reached from `root` (the resctrl mount point), so that unit
 * tests run it on a fake tree. Where resctrl is not mounted, create refuses
 * the config, naming /linux/intelRdt, before it makes anything.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RuntsError } from '../errors';

export interface IntelRdt {
  closID?: string;
  l3CacheSchema?: string;
  memBwSchema?: string;
  schemata?: string[];
  enableMonitoring?: boolean;
}

/** What create made, for delete to remove: the CLOS directory if create made it, the monitoring group. */
export interface RdtState {
  /** The class of service's directory. */
  group: string;
  /** Whether create made it (else it was pre-configured, and stays). */
  created: boolean;
  monitor?: string;
}

/** Where resctrl is mounted, from /proc/self/mountinfo's text; undefined when it is not. */
export function resctrlRoot(mountinfo: string): string | undefined {
  for (const line of mountinfo.split('\n')) {
    const [before, after] = line.split(' - ');
    if (after?.split(' ')[0] === 'resctrl') return before!.split(' ')[4]!.replace(/\\040/g, ' ');
  }
  return undefined;
}

/** The host's resctrl mount point, or the refusal naming the field. */
export function hostResctrlRoot(): string {
  const root = resctrlRoot(readFileSync('/proc/self/mountinfo', 'utf8'));
  if (!root)
    throw new RuntsError('/linux/intelRdt: resctrl is not mounted on this host (no resctrl filesystem in /proc/self/mountinfo)');
  return root;
}

/** Why a closID cannot name a resctrl directory, or undefined. */
export function closIdProblem(closID: string): string | undefined {
  if (closID === '' || closID === '.' || closID === '..' || closID.includes('/'))
    return 'must name one directory of resctrl (not empty, ".", ".." nor holding "/")';
  return undefined;
}

/** The schemata lines create writes, in order (the spec: l3CacheSchema's non-MB lines, memBwSchema, then schemata). */
export function schemataLines(rdt: IntelRdt): string[] {
  const lines = (text?: string) =>
    (text ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  const l3 = lines(rdt.l3CacheSchema);
  const out = rdt.memBwSchema ? [...l3.filter((l) => !l.startsWith('MB:')), ...lines(rdt.memBwSchema)] : l3;
  return [...out, ...(rdt.schemata ?? []).flatMap((s) => lines(s))];
}

/** "RES:dom=val;dom=val" as resource -> domain -> value (numbers: hex masks, MB decimal). */
function parseSchemata(text: string): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const line of text.split('\n')) {
    const [resource, domains] = line.trim().split(':');
    if (!resource || domains === undefined) continue;
    const key = resource.trim();
    const map = out.get(key) ?? new Map<string, number>();
    for (const part of domains.split(';')) {
      const [dom, val] = part.split('=');
      if (dom === undefined || val === undefined) continue;
      map.set(dom.trim(), parseInt(val.trim(), key.startsWith('MB') ? 10 : 16));
    }
    out.set(key, map);
  }
  return out;
}

/** The lines of `wanted` that the schemata file does not hold as they say. */
function mismatches(wanted: string[], file: string): string[] {
  const have = parseSchemata(file);
  return wanted.filter((line) => {
    for (const [resource, domains] of parseSchemata(line)) {
      for (const [dom, val] of domains) if (have.get(resource)?.get(dom) !== val) return true;
    }
    return false;
  });
}

/**
 * Puts pid in the container's class of service, made and configured as the
 * spec says, under root (the resctrl mount point). On failure what it made
 * is removed again.
 */
export function applyIntelRdt(root: string, id: string, rdt: IntelRdt, pid: number): RdtState {
  const group = join(root, rdt.closID ?? id);
  const lines = schemataLines(rdt);
  const existed = existsSync(group);
  if (rdt.closID !== undefined && existed && lines.length) {
    // A pre-configured class must already say what the config asks.
    const wrong = mismatches(lines, readFileSync(join(group, 'schemata'), 'utf8'));
    if (wrong.length)
      throw new RuntsError(
        `/linux/intelRdt: the schemata of the existing CLOS ${rdt.closID} differ from the config's: ${wrong.join(', ')}`,
      );
  } else if (rdt.closID !== undefined && !existed && !lines.length) {
    throw new RuntsError(`/linux/intelRdt/closID: no pre-configured CLOS ${JSON.stringify(rdt.closID)} in ${root}`);
  } else if (rdt.closID === undefined && existed) {
    throw new RuntsError(`/linux/intelRdt: ${group} exists already: the container's own CLOS is made anew`);
  }
  const state: RdtState = { group, created: !existed };
  try {
    if (!existed) mkdirSync(group);
    // One line per write: the kernel parses a write to schemata as one update.
    if (state.created) for (const line of lines) writeFileSync(join(group, 'schemata'), `${line}\n`);
    if (rdt.enableMonitoring) {
      state.monitor = join(group, 'mon_groups', id);
      mkdirSync(state.monitor);
    }
    joinIntelRdt(state, pid);
    return state;
  } catch (err) {
    removeIntelRdt(state);
    throw new RuntsError(`/linux/intelRdt: ${(err as Error).message}`);
  }
}

/**
 * An exec'd process joins the container's groups as runc's exec does:
 * resctrl's tasks take one thread, so `tid` is the main thread that then
 * starts the program (its children inherit the group at fork).
 */
export function joinIntelRdt(state: RdtState, tid: number): void {
  writeFileSync(join(state.group, 'tasks'), String(tid));
  if (state.monitor) writeFileSync(join(state.monitor, 'tasks'), String(tid));
}

/** Removes what applyIntelRdt made (resctrl removes a group with rmdir, as cgroups do); the problems met. */
export function removeIntelRdt(state: RdtState): string[] {
  const problems: string[] = [];
  const remove = (dir: string) => {
    try {
      rmdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') problems.push(`removing ${dir}: ${(err as Error).message}`);
    }
  };
  if (state.monitor) remove(state.monitor);
  if (state.created) remove(state.group);
  return problems;
}
