// Signals (issue 19, point 6): a pid of 0 or below is never signalled (kill(2)
// reads 0 as the caller's own process group). cgroup v2's cgroup.procs lists
// 0 for a member outside the reader's pid namespace: fed to the signalling
// code from a cgroup directory made for the test. Each case runs in a node
// of its own, in a process group of its own: on the old code it killed
// that group, never the test runner.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isProcessId } from '../../src/linux/process-signal';
import { TOP, tempDir } from '../lib/cli';

const test = suite('process-signal');

/** Bundles a script that drives runts' own modules; args go to process.argv[2..]. */
async function script(contents: string): Promise<string> {
  // In the checkout, where node finds ffi-rs (a native addon, not bundled).
  mkdirSync(join(TOP, '.tmp'), { recursive: true });
  const dir = mkdtempSync(join(TOP, '.tmp', 'signal-script-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'script.mjs');
  const { build } = await import('esbuild');
  await build({
    stdin: { contents, resolveDir: TOP, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: file,
    logLevel: 'error',
    external: ['ffi-rs'],
  });
  return file;
}

function runAlone(file: string, args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
  const child = spawn(process.execPath, [file, ...args], { cwd: TOP, detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout })));
}

test('no pid of 0 or below is a process to signal', () => {
  for (const pid of [0, -1, -42, 1.5, Number.NaN]) assert.not.ok(isProcessId(pid), String(pid));
  assert.ok(isProcessId(1));
});

test("signalAll on a cgroup.procs listing 0: the listed process gets the signal, the caller's process group does not, and it says why it could not do more", async () => {
  const dir = tempDir('fake-cgroup-');
  const member = spawn('sleep', ['1000'], { stdio: 'ignore' });
  const memberExit = new Promise<NodeJS.Signals | null>((resolve) => member.once('exit', (_, signal) => resolve(signal)));
  const stray = setTimeout(() => member.kill('SIGKILL'), 30_000);
  // No cgroup.kill, no cgroup.freeze: the per-process path.
  writeFileSync(join(dir, 'cgroup.procs'), `0\n${member.pid}\n0\n`);
  const file = await script(`
    import { signalAll } from './src/linux/cgroups/manager';
    import { V2Cgroup } from './src/linux/cgroups/v2';
    try {
      signalAll(new V2Cgroup({ version: 2, path: process.argv[2] }), 15);
      console.log('returned');
    } catch (err) {
      console.log('error: ' + err.message);
    }`);
  const r = await runAlone(file, [dir]);
  if (r.signal) member.kill('SIGKILL');
  clearTimeout(stray);
  assert.is(r.signal, null, 'signalAll signalled its own process group');
  assert.is(r.code, 0, r.stdout);
  assert.match(r.stdout, /^error: 2 process\(es\) of the container are not visible from this pid namespace/);
  assert.is(await memberExit, 'SIGTERM');
});

test('destroyCgroup of members listed as 0: cgroup.kill kills them (the kernel finds them), nothing is signalled by pid', async () => {
  const file = await script(`
    import { destroyCgroup } from './src/linux/cgroups/manager';
    let members = [0, 0];
    const calls = [];
    const cgroup = {
      state: { version: 2, path: '/nowhere' },
      exists: () => true,
      canFreeze: () => true,
      isFrozen: () => false,
      freeze: () => calls.push('freeze'),
      thaw: () => calls.push('thaw'),
      pids: () => members,
      killAll: () => { calls.push('killAll'); members = []; return true; },
      removeDirs: () => calls.push('removeDirs'),
    };
    destroyCgroup(cgroup);
    console.log(calls.join(' '));`);
  const r = await runAlone(file, []);
  assert.is(r.signal, null, 'destroyCgroup signalled its own process group');
  assert.is(r.code, 0);
  assert.is(r.stdout.trim(), 'killAll removeDirs');
});

test.run();
