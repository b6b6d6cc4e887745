/**
 * The other end of --console-socket: a unix socket that receives the
 * pseudoterminal master (SCM_RIGHTS) and copies what the container writes
 * on its terminal to a file. Node cannot receive file descriptors, so a
 * short python3 program does it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { check } from './case';
import type { Config } from './config';
import { readOr, waitFor } from './host';
import { describe } from './runtime-cli';
import type { Trial } from './trial';

const RECEIVER = `
import array, os, select, socket, sys, time
path, out = sys.argv[1], sys.argv[2]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
server.settimeout(60)
conn, _ = server.accept()
_, ancillary, _, _ = conn.recvmsg(4096, socket.CMSG_SPACE(4))
fds = [array.array('i', data[:4])[0] for level, kind, data in ancillary if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS]
with open(out, 'wb') as f:
    deadline = time.time() + 60
    while fds and time.time() < deadline:
        ready, _, _ = select.select([fds[0]], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fds[0], 4096)
        except OSError:
            break
        if not chunk:
            break
        f.write(chunk)
        f.flush()
`;

/** Printed after the case's script: the end of the output. */
const DONE = 'conformance-console-done';

/**
 * Runs the config's script (sh -c) with process.terminal on and a console
 * socket; resolves to what the container wrote on its terminal, without
 * the CRs a terminal adds to line ends.
 */
export async function runOnConsole(t: Trial, c: Config): Promise<string> {
  const socketPath = t.path('console.sock');
  const outFile = t.path('console.out');
  const receiver = spawn('python3', ['-c', RECEIVER, socketPath, outFile], { stdio: 'ignore' });
  t.onCleanup(() => {
    receiver.kill('SIGKILL');
  });
  check(await waitFor(() => existsSync(socketPath)), 'the console receiver did not start');
  c.process!.terminal = true;
  c.process!.args = ['sh', '-c', `${c.process!.args![2]}; echo ${DONE}; sleep 1`];
  const id = t.newId();
  const created = await t.rt.create(id, t.bundle(c), ['--console-socket', socketPath]);
  check(created.code === 0, `create with a terminal failed (${describe(created)})`);
  await t.rt.started(id);
  const done = await waitFor(() => readOr(outFile).includes(DONE), 15_000);
  check(done, `the container's terminal output never ended (got ${JSON.stringify(readOr(outFile).slice(0, 200))})`);
  return readOr(outFile).replace(/\r/g, '');
}
