/**
 * runc's update: new resource values for a running container. As with
 * runc they are merged into the values applied so far (a swap limit means
 * something only with the memory limit it goes with), checked, written to
 * the cgroup, and kept in the record. Device rules are left as they are.
 */
import { ConfigError, type Problem } from '../errors';
import { updateCgroup } from '../linux/cgroups/manager';
import { mergeResources, resourceProblems } from '../linux/cgroups/resources';
import type { LinuxResources } from '../spec/types';
import { schemaProblems } from '../spec/validate';
import { SPEC_VERSION } from '../spec/version';
import type { StateStore } from '../state/store';
import { Container } from './container';

/** The document against the official schema's linux.resources, then the prose rules; pointers are the document's. */
function checkedResources(doc: unknown, source: string): LinuxResources {
  const inSchema = schemaProblems({ ociVersion: SPEC_VERSION, linux: { resources: doc } }).map((p): Problem => ({
    ...p,
    pointer: p.pointer.replace(/^\/linux\/resources/, ''),
  }));
  const problems = inSchema.length ? inSchema : resourceProblems(doc as LinuxResources, '');
  if (problems.length) throw new ConfigError(problems, source);
  return doc as LinuxResources;
}

/** source names the document in errors ("--resources", a file name). */
export async function updateContainer(store: StateStore, id: string, doc: unknown, source: string): Promise<void> {
  const update = checkedResources(doc, source);
  await Container.locked(store, id, async (container) => {
    if (!container.canUpdate()) throw container.refusal('update');
    const { record } = container;
    const merged = mergeResources(record.resources ?? {}, update);
    const conflicts = resourceProblems(merged, '');
    if (conflicts.length) throw new ConfigError(conflicts, `${source} with the values already applied`);
    await updateCgroup(container.cgroup(), merged);
    record.resources = merged;
    container.save();
  });
}
