// The systemd cgroup driver against a live systemd (issue 14, "Done when"
// 1): runts called directly with --systemd-cgroup and a "slice:prefix:name"
// cgroupsPath, on cgroup v2 and on v1. The scope is a transient unit with
// the resources as its properties, the cgroup files carry them (v1: in
// each hierarchy), and update, pause/resume, events, ps, exec, kill --all
// and delete work on it; delete leaves no unit and no cgroup.
//
// It needs systemd as PID 1 and a runner that is not in a pid namespace of
// its own (systemd is given the init's pid as systemd sees it), so it is
// skipped on this host and run by test/e2e/systemd-vm.test.ts in VMs that
// boot systemd on cgroup v2 and on cgroup v1.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isRoot, tempDir } from '../lib/cli';
import { bundle, leftovers, runtime, shArgs, sleepSync, stateOf, uniqueId, watchContainer } from '../lib/container';
import { skipTest } from '../lib/skips';

const test = suite('systemd cgroup driver, with systemd');

function unavailable(): string | undefined {
  if (!isRoot) return 'not root';
  if (!existsSync('/run/systemd/system')) return 'systemd is not PID 1 here (the systemd VM test runs this file)';
  if (!readFileSync('/proc/1/comm', 'utf8').startsWith('systemd'))
    return 'in a pid namespace of its own: systemd would be given pids it cannot see (the systemd VM test runs this file)';
  return undefined;
}
const skip = unavailable();
const whenSystemd = skip ? (title: string, _fn: () => void) => skipTest(test, title, skip) : test;

const V2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
/** The v1 hierarchies the driver must put the scope in (those runc joins). */
const V1_HIERARCHIES = ['memory', 'pids', 'cpu', 'cpuset', 'devices', 'freezer', 'blkio'];

const show = (unit: string, property: string): string =>
  execFileSync('systemctl', ['show', '-P', property, unit], { encoding: 'utf8' }).trim();

/** The scope's cgroup directories: one on v2, one per hierarchy on v1. */
function scopeDirs(cgroup: string): string[] {
  return V2 ? [join('/sys/fs/cgroup', cgroup)] : V1_HIERARCHIES.map((h) => join('/sys/fs/cgroup', h, cgroup));
}

/** The directory of one controller's files (v1: its hierarchy). */
const controllerDir = (cgroup: string, controller: string) =>
  V2 ? join('/sys/fs/cgroup', cgroup) : join('/sys/fs/cgroup', controller, cgroup);

const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8').trim();

/** systemd unloads a stopped transient unit when it collects garbage: wait for it. */
function unitGone(unit: string): boolean {
  for (let i = 0; i < 100; i++) {
    if (show(unit, 'LoadState') === 'not-found') return true;
    sleepSync(50);
  }
  return false;
}

function ok(r: { code: number | null; stderr: string }, what: string) {
  assert.is(r.code, 0, `${what}: ${r.stderr}`);
}

whenSystemd('a scope in a slice: properties, cgroup files, update, pause, events, ps, exec, kill --all, delete', () => {
  const root = join(tempDir(), 'root');
  const id = uniqueId();
  const unit = `runts-live-${id}.scope`;
  const cgroup = `system.slice/${unit}`;
  const b = bundle((s) => {
    shArgs('sleep 1000')(s);
    s.linux!.cgroupsPath = `system.slice:runts-live:${id}`;
    s.linux!.resources = { memory: { limit: 64 << 20 }, pids: { limit: 50 }, cpu: { shares: 512 } };
  });
  const watch = watchContainer({ id, root, bundle: b });
  ok(runtime(['--systemd-cgroup', 'create', '--bundle', b, id], { root }), 'create');
  const { pid } = stateOf(root, id);
  watch.observe(pid);

  // The unit, as systemd sees it.
  assert.is(show(unit, 'ActiveState'), 'active');
  assert.is(show(unit, 'ControlGroup'), `/${cgroup}`);
  assert.is(show(unit, 'Delegate'), 'yes');
  assert.is(show(unit, 'TasksMax'), '50');
  assert.is(show(unit, V2 ? 'MemoryMax' : 'MemoryLimit'), String(64 << 20));
  // The cgroup: the init in the scope (v1: in every hierarchy), the limits written.
  for (const dir of scopeDirs(cgroup)) assert.ok(read(dir, 'cgroup.procs').split('\n').includes(String(pid)), dir);
  assert.is(read(controllerDir(cgroup, 'pids'), 'pids.max'), '50');
  assert.is(read(controllerDir(cgroup, 'memory'), V2 ? 'memory.max' : 'memory.limit_in_bytes'), String(64 << 20));

  ok(runtime(['--systemd-cgroup', 'start', id], { root }), 'start');
  const ps = runtime(['--systemd-cgroup', 'ps', '--format', 'json', id], { root });
  ok(ps, 'ps');
  assert.equal(JSON.parse(ps.stdout), [pid]);

  // update: the unit's property and the file.
  ok(runtime(['--systemd-cgroup', 'update', '--memory', '128M', '--pids-limit', '60', id], { root }), 'update');
  assert.is(show(unit, 'TasksMax'), '60');
  assert.is(show(unit, V2 ? 'MemoryMax' : 'MemoryLimit'), String(128 << 20));
  assert.is(read(controllerDir(cgroup, 'pids'), 'pids.max'), '60');
  assert.is(read(controllerDir(cgroup, 'memory'), V2 ? 'memory.max' : 'memory.limit_in_bytes'), String(128 << 20));

  // The freezer, through the scope's cgroup.
  ok(runtime(['--systemd-cgroup', 'pause', id], { root }), 'pause');
  assert.is(stateOf(root, id).status, 'paused');
  assert.is(
    V2 ? read(controllerDir(cgroup, ''), 'cgroup.freeze') : read(controllerDir(cgroup, 'freezer'), 'freezer.state'),
    V2 ? '1' : 'FROZEN',
  );
  ok(runtime(['--systemd-cgroup', 'resume', id], { root }), 'resume');
  assert.is(stateOf(root, id).status, 'running');

  // events --stats: the scope's counters.
  const events = runtime(['--systemd-cgroup', 'events', '--stats', id], { root });
  ok(events, 'events --stats');
  const stats = JSON.parse(events.stdout).data;
  assert.ok(stats.memory.usage.usage > 0, events.stdout);
  assert.ok(stats.pids.current >= 1, events.stdout);

  // exec: the new process joins the scope (v1: every hierarchy).
  const execd = runtime(['--systemd-cgroup', 'exec', '-d', '--pid-file', join(tempDir(), 'exec.pid'), id, 'sleep', '999'], {
    root,
  });
  ok(execd, 'exec -d');
  const pids = JSON.parse(runtime(['--systemd-cgroup', 'ps', '--format', 'json', id], { root }).stdout) as number[];
  assert.is(pids.length, 2, `ps after exec: ${pids}`);
  for (const dir of scopeDirs(cgroup)) assert.is(read(dir, 'cgroup.procs').split('\n').length, 2, dir);

  // kill --all: every process of the scope.
  ok(runtime(['--systemd-cgroup', 'kill', '--all', id, 'KILL'], { root }), 'kill --all');
  for (let i = 0; i < 100 && stateOf(root, id).status !== 'stopped'; i++) sleepSync(50);
  assert.is(stateOf(root, id).status, 'stopped');
  for (const p of pids) assert.not.ok(existsSync(`/proc/${p}/cmdline`) && readFileSync(`/proc/${p}/cmdline`).length, `pid ${p}`);

  // delete: the unit stopped and unloaded, no cgroup left in any hierarchy.
  ok(runtime(['--systemd-cgroup', 'delete', id], { root }), 'delete');
  assert.ok(unitGone(unit), `${unit} still loaded: ${show(unit, 'ActiveState')}`);
  for (const dir of scopeDirs(cgroup)) assert.not.ok(existsSync(dir), `${dir} left`);
  assert.equal(leftovers(watch), []);
  assert.equal(existsSync(root) ? readdirSync(root) : [], []);
});

whenSystemd('a nested slice name is expanded (kubepods-besteffort.slice), as Kubernetes names pods', () => {
  const root = join(tempDir(), 'root');
  const id = uniqueId();
  const unit = `cri-runts-${id}.scope`;
  const cgroup = `kubepods.slice/kubepods-besteffort.slice/${unit}`;
  const b = bundle((s) => {
    shArgs('sleep 1000')(s);
    s.linux!.cgroupsPath = `kubepods-besteffort.slice:cri-runts:${id}`;
  });
  ok(runtime(['--systemd-cgroup', 'run', '-d', '--bundle', b, id], { root }), 'run -d');
  const { pid } = stateOf(root, id);
  assert.is(show(unit, 'Slice'), 'kubepods-besteffort.slice');
  for (const dir of scopeDirs(cgroup)) assert.ok(read(dir, 'cgroup.procs').split('\n').includes(String(pid)), dir);
  ok(runtime(['--systemd-cgroup', 'delete', '--force', id], { root }), 'delete --force');
  assert.ok(unitGone(unit), `${unit} still loaded`);
  for (const dir of scopeDirs(cgroup)) assert.not.ok(existsSync(dir), `${dir} left`);
});

whenSystemd('a failed create (a program that does not exist) leaves no unit and no cgroup', () => {
  const root = join(tempDir(), 'root');
  const id = uniqueId();
  const unit = `runts-live-${id}.scope`;
  const b = bundle((s) => {
    s.process!.args = ['/no/such/program'];
    s.linux!.cgroupsPath = `system.slice:runts-live:${id}`;
  });
  const r = runtime(['--systemd-cgroup', 'run', '--bundle', b, id], { root });
  assert.ok(r.code !== 0, 'run of a missing program succeeded');
  assert.ok(unitGone(unit), `${unit} left: ${show(unit, 'ActiveState')}`);
  for (const dir of scopeDirs(`system.slice/${unit}`)) assert.not.ok(existsSync(dir), `${dir} left`);
  const units = spawnSync('systemctl', ['list-units', '--all', '--no-legend', `*${id}*`], { encoding: 'utf8' }).stdout;
  assert.is(units.trim(), '', units);
});

test.run();
