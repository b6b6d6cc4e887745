// How `runts run` ends (src/cli/entry.ts): create and run leave with
// _exit, unless node has the caller's stdio to put back as it found it.
// libuv makes a pipe it streams non-blocking (the terminal relay streams
// stdout), and that file is the caller's too: a shell reading or writing it
// afterwards would get EAGAIN.
import { spawnSync } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RUNTS, isRoot, tempDir } from '../lib/cli';
import { bundle, uniqueId } from '../lib/container';

const test = suite('exit');
const asRoot = isRoot ? test : test.skip;

/** The flags of the caller's stdout (a pipe) once `runts run` is done with it, and what the run printed. */
function runThenFlags(terminal: boolean): { flags: number; stdout: string; stderr: string } {
  const b = bundle((s) => {
    s.process!.terminal = terminal;
    s.process!.args = ['echo', 'from the container'];
  });
  const script = `"$0" --root "$1" run --bundle "$2" "$3" && grep '^flags:' /proc/self/fdinfo/1`;
  const r = spawnSync('sh', ['-c', script, RUNTS, tempDir('runts-root-'), b, uniqueId()], {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 60_000,
  });
  const m = /^flags:\s*([0-7]+)$/m.exec(r.stdout);
  assert.ok(m, `no flags: ${r.stdout} ${r.stderr}`);
  return { flags: parseInt(m[1]!, 8), stdout: r.stdout, stderr: r.stderr };
}

const O_NONBLOCK = 0o4000;

asRoot('run with a terminal relayed to a pipe: the pipe is blocking again after it', () => {
  const r = runThenFlags(true);
  assert.match(r.stdout, /from the container/, r.stderr);
  assert.is(r.flags & O_NONBLOCK, 0, `stdout left non-blocking (flags ${r.flags.toString(8)})`);
});

asRoot('run without a terminal: the pipe is left as it was', () => {
  const r = runThenFlags(false);
  assert.match(r.stdout, /from the container/, r.stderr);
  assert.is(r.flags & O_NONBLOCK, 0, `stdout left non-blocking (flags ${r.flags.toString(8)})`);
});

test.run();
