/**
 * A private containerd and dockerd for `bench --docker`, as the e2e
 * harness starts them (scripts/engines.ts): their own state, sockets and
 * config in the bench's temp dir, dockerd on that containerd (never the
 * host's at /run/containerd, running or not), no bridge, no iptables,
 * runts added as a runtime, and a busybox image imported from the bench's
 * rootfs. Containers run with --network none. The containerd serves `ctr
 * run` too (the image copied into a namespace of the bench's), with
 * --runc-binary naming the runtime. stop() removes the containers and ends
 * both daemons (the shims end with their containers).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { dockerCli, privateContainerd, privateDockerdArgs } from '../scripts/engines';
import { type Output, type Ran, timed } from './measure';

export const IMAGE = 'runts-bench-busybox';
const CTR_IMAGE = `docker.io/library/${IMAGE}:latest`;

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export class Docker {
  private readonly cli = dockerCli();
  private readonly sock: string;
  /** The private containerd's socket (dockerd's and ctr's). */
  private readonly ctrSock: string;
  private containerd?: ChildProcess;
  private daemon?: ChildProcess;

  constructor(
    private readonly dir: string,
    private readonly out: Output,
    /** ctr's namespace; also the parent of its containers' cgroups (/NAMESPACE/ID), which the bench removes by prefix. */
    private readonly ctrNamespace: string,
  ) {
    this.sock = join(dir, 'docker.sock');
    this.ctrSock = join(dir, 'containerd.sock');
  }

  private docker(args: string[], timeout = 60_000) {
    return spawnSync(this.cli, ['-H', `unix://${this.sock}`, ...args], { encoding: 'utf8', timeout });
  }

  /**
   * Starts a daemon in its own session (a Ctrl-C at the terminal reaches
   * the bench, which stops the daemons itself), its output in the bench's
   * log, and waits for ready(); throws with the reason (and its last log lines).
   */
  private async startDaemon(file: string, args: string[], ready: () => boolean): Promise<ChildProcess> {
    const child = spawn(file, args, { detached: true, stdio: ['ignore', this.out.fd, this.out.fd] });
    const mark = this.out.mark();
    const failed = new Promise<string>((resolve) => {
      child.once('error', (err) => resolve(err.message));
      child.once('exit', (code, signal) => resolve(`${file} exited (${signal ?? code})`));
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const early = await Promise.race([failed, new Promise<undefined>((r) => setTimeout(() => r(undefined), 200))]);
      if (early !== undefined) throw new Error(`${early}: ${this.out.since(mark)}`);
      if (ready()) return child;
      if (Date.now() > deadline) throw new Error(`${file} did not answer within 60 s: ${this.out.since(mark)}`);
    }
  }

  /** Starts containerd, then dockerd on it, and imports the image; throws with the reason. */
  async start(runtsBin: string, rootfs: string): Promise<void> {
    const containerdDir = join(this.dir, 'containerd');
    mkdirSync(containerdDir, { recursive: true });
    const containerd = privateContainerd(containerdDir, this.ctrSock);
    const ctrVersion = () =>
      spawnSync('ctr', ['--address', this.ctrSock, 'version'], { encoding: 'utf8', timeout: 10_000 }).status === 0;
    this.containerd = await this.startDaemon('containerd', containerd.args, () => existsSync(this.ctrSock) && ctrVersion());
    const args = privateDockerdArgs({
      config: join(this.dir, 'daemon.json'),
      sock: this.sock,
      dataRoot: join(this.dir, 'data'),
      execRoot: join(this.dir, 'exec'),
      pidfile: join(this.dir, 'docker.pid'),
      containerd: this.ctrSock,
      runtimes: { runts: runtsBin },
    });
    this.daemon = await this.startDaemon(
      'dockerd',
      args,
      () => existsSync(this.sock) && this.docker(['version'], 10_000).status === 0,
    );
    const info = this.docker(['info', '--format', '{{json .Runtimes}}']);
    if (!/"runts"/.test(info.stdout ?? ''))
      throw new Error(`dockerd does not list the runts runtime: ${info.stdout}${info.stderr}`);
    const imported = spawnSync(
      'sh',
      ['-c', 'tar -C "$1" -c . | "$2" -H "unix://$3" import - "$4"', 'sh', rootfs, this.cli, this.sock, IMAGE],
      {
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    if (imported.status !== 0) throw new Error(`docker import: ${imported.stderr}`);
  }

  /** The image in containerd, for ctrRun (dockerd's own namespace is not ctr's to use). */
  prepareContainerd(): void {
    const sock = this.ctrSock;
    const imported = spawnSync(
      'sh',
      [
        '-c',
        '"$1" -H "unix://$2" save "$3" | ctr --address "$4" -n "$5" images import -',
        'sh',
        this.cli,
        this.sock,
        IMAGE,
        sock,
        this.ctrNamespace,
      ],
      {
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    if (imported.status !== 0) throw new Error(`ctr images import: ${imported.stderr}${imported.stdout}`);
  }

  /** `ctr run --rm --runc-binary BIN IMAGE ID true` on dockerd's containerd, timed. */
  ctrRun(runtimeBin: string, name: string, id: string): Ran {
    const args = [
      '--address',
      this.ctrSock,
      '-n',
      this.ctrNamespace,
      'run',
      '--rm',
      '--runc-binary',
      runtimeBin,
      '--runc-root',
      join(this.dir, `ctr-root-${name}`),
      CTR_IMAGE,
      id,
      'true',
    ];
    return timed('ctr', args, this.out, 120_000);
  }

  /** `docker run --rm --network none --runtime RUNTIME IMAGE true`, timed. */
  run(runtime: string): Ran {
    return timed(
      this.cli,
      ['-H', `unix://${this.sock}`, 'run', '--rm', '--network', 'none', '--runtime', runtime, IMAGE, 'true'],
      this.out,
      120_000,
    );
  }

  /** Removes every container, then stops dockerd, then containerd (each: SIGTERM, then SIGKILL after 30 s). */
  async stop(): Promise<string[]> {
    const problems: string[] = [];
    const up = (child?: ChildProcess): child is ChildProcess => !!child && !exited(child);
    if (up(this.daemon)) {
      const ps = this.docker(['ps', '-aq'], 30_000);
      const ids = (ps.stdout ?? '').split('\n').filter(Boolean);
      if (ids.length) {
        const rm = this.docker(['rm', '-f', ...ids], 120_000);
        if (rm.status !== 0) problems.push(`docker rm -f: ${rm.stderr}`);
      }
    }
    // ctr run --rm removes its own; a failed one may leave a task or a container.
    if (up(this.containerd)) {
      const ctr = (args: string[]) =>
        spawnSync('ctr', ['--address', this.ctrSock, '-n', this.ctrNamespace, ...args], { encoding: 'utf8', timeout: 30_000 });
      for (const task of (ctr(['tasks', 'ls', '-q']).stdout ?? '').split('\n').filter(Boolean)) ctr(['tasks', 'rm', '-f', task]);
      for (const c of (ctr(['containers', 'ls', '-q']).stdout ?? '').split('\n').filter(Boolean)) ctr(['containers', 'rm', c]);
    }
    for (const [name, child] of [
      ['dockerd', this.daemon],
      ['containerd', this.containerd],
    ] as const) {
      if (!up(child)) continue;
      child.kill('SIGTERM');
      if (!(await waitExit(child, 30_000))) {
        problems.push(`${name} did not stop within 30 s of SIGTERM: killed`);
        child.kill('SIGKILL');
        await waitExit(child, 10_000);
      }
    }
    return problems;
  }
}
