/**
 * The container engines as the e2e harness (test/lib/e2e.ts) and
 * `bench --docker` (bench/docker.ts) both run them: the binaries (Debian
 * packages installed with apt when missing, as root), and a containerd and
 * a dockerd private to a directory of the caller's: their own state,
 * sockets and config, never the host's /run/containerd or /var/lib/docker.
 * dockerd always runs on the private containerd it is given: left to
 * itself, it would use a system containerd if one answers at
 * /run/containerd and start its own otherwise.
 * Bundled into the tests and the bench (esbuild), not run on its own.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Engine = 'docker' | 'containerd' | 'podman';

const SEARCH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export function which(bin: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SEARCH];
  for (const d of dirs) {
    const p = join(d, bin);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** What each engine needs: binaries and the Debian packages that hold them. */
const NEEDS: Record<Engine, { bins: string[]; packages: string[] }> = {
  containerd: { bins: ['containerd', 'ctr', 'containerd-shim-runc-v2', 'tar', 'script'], packages: ['containerd'] },
  docker: {
    bins: ['dockerd', 'docker', 'containerd', 'containerd-shim-runc-v2', 'tar', 'script'],
    packages: ['docker.io', 'containerd'],
  },
  podman: { bins: ['podman', 'conmon', 'tar'], packages: ['podman'] },
};

function aptInstall(packages: string[]): string | undefined {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', '-q', ...packages], { encoding: 'utf8', env, timeout: 600_000 });
  let r = install();
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-q'], { encoding: 'utf8', env, timeout: 300_000 });
    r = install();
  }
  if (r.status !== 0)
    return `apt-get install ${packages.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' | ')}`;
  return undefined;
}

/** Missing binaries are installed (apt) when root, said through say; returns why the engine cannot run, if it cannot. */
export function ensureEngine(engine: Engine, say: (line: string) => void = (l) => console.log(`  ${l}`)): string | undefined {
  const missing = () => NEEDS[engine].bins.filter((b) => !which(b));
  if (!missing().length) return undefined;
  if (process.getuid?.() !== 0)
    return `not root: cannot install ${NEEDS[engine].packages.join(' ')} (missing ${missing().join(', ')})`;
  say(`installing ${NEEDS[engine].packages.join(' ')} (missing ${missing().join(', ')})`);
  const failed = aptInstall(NEEDS[engine].packages);
  if (failed) return failed;
  const still = missing();
  return still.length ? `still missing after apt-get install: ${still.join(', ')}` : undefined;
}

/** Debian's docker client matches its dockerd (another, newer one may come first in PATH). */
export function dockerCli(): string {
  return existsSync('/usr/bin/docker') ? '/usr/bin/docker' : (which('docker') ?? 'docker');
}

export interface PrivateContainerd {
  /** `containerd --config CONFIG`. */
  args: string[];
  sock: string;
  state: string;
}

/**
 * A containerd of dir (its root, state and opt there; its socket sock):
 * writes dir/config.toml and returns how to start it. No CRI plugin.
 */
export function privateContainerd(dir: string, sock: string): PrivateContainerd {
  const config = join(dir, 'config.toml');
  const state = join(dir, 'state');
  writeFileSync(
    config,
    [
      'version = 2',
      `root = ${JSON.stringify(join(dir, 'root'))}`,
      `state = ${JSON.stringify(state)}`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = ${JSON.stringify(sock)}`,
      '[ttrpc]',
      `  address = ${JSON.stringify(`${sock}.ttrpc`)}`,
      '[debug]',
      '  level = "warn"',
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = ${JSON.stringify(join(dir, 'opt'))}`,
      '',
    ].join('\n'),
  );
  return { args: ['--config', config], sock, state };
}

export interface DockerdPlaces {
  /** daemon.json (written empty: the host's /etc/docker/daemon.json is not read). */
  config: string;
  sock: string;
  dataRoot: string;
  /** Short: dockerd makes socket paths under it. */
  execRoot: string;
  pidfile: string;
  /** The private containerd's socket. */
  containerd: string;
  /** --add-runtime NAME=PATH each. */
  runtimes: Record<string, string>;
}

/**
 * dockerd's arguments for a private one: those places, no bridge, no
 * iptables, no forwarding or masquerading (its containers run with
 * --network none), then extra.
 */
export function privateDockerdArgs(places: DockerdPlaces, extra: string[] = []): string[] {
  writeFileSync(places.config, '{}\n');
  // prettier-ignore
  return [
    '--config-file', places.config,
    '-H', `unix://${places.sock}`,
    '--data-root', places.dataRoot,
    '--exec-root', places.execRoot,
    '--pidfile', places.pidfile,
    '--containerd', places.containerd,
    '--bridge=none', '--iptables=false', '--ip6tables=false', '--ip-masq=false', '--ip-forward=false',
    ...Object.entries(places.runtimes).flatMap(([name, path]) => ['--add-runtime', `${name}=${path}`]),
    '--log-level', 'warn',
    ...extra,
  ];
}
