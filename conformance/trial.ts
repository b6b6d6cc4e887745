/**
 * One case's run against one runtime: its own directory and --root, fresh
 * container ids, configs and bundles, what each container leaves on the
 * host (leftovers.ts: its namespaces and cgroups noted whenever the case
 * sees its init's pid), and the cleanup that runs however the case ended:
 * containers deleted, their leftover processes killed (inits included),
 * host mounts under its directory and cgroups it named removed.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupLayout } from './cgroups';
import { type Config, baseConfig } from './config';
import { processesWithEnv, unmountUnder, waitFor } from './host';
import { type ContainerRef, ContainerWatch, type Leftover, processesHolding, removeLeftovers } from './leftovers';
import type { Rootfs } from './rootfs';
import { RuntimeCli } from './runtime-cli';

/** What every case of one suite run shares. */
export interface SuiteContext {
  runtime: string;
  /** Short and unique to this suite run: container ids and cgroup names carry it. */
  token: string;
  dir: string;
  rootfs: Rootfs;
}

let idCounter = 0;

export class Trial {
  readonly dir: string;
  readonly rt: RuntimeCli;
  /** NAME=value in every container's environment: finds its processes after a failure. */
  readonly marker: string;
  private readonly cleanups: (() => void | Promise<void>)[] = [];
  private readonly cgroups: string[] = [];
  private readonly watches = new Map<string, ContainerWatch>();
  /** Every id newId gave out: the cleanup looks for all of them, made through the driver or not. */
  private readonly issued: string[] = [];
  private made = 0;

  constructor(
    readonly suite: SuiteContext,
    caseIndex: number,
  ) {
    this.dir = join(suite.dir, `case-${caseIndex}`);
    mkdirSync(this.dir);
    const scratch = this.path('cli');
    mkdirSync(scratch);
    this.rt = new RuntimeCli(suite.runtime, this.path('root'), scratch);
    this.marker = `CONFORMANCE_CASE=${suite.token}-${caseIndex}`;
    this.rt.onPid = (id, pid) => this.watch(id).observe(pid);
  }

  /** A container of this case, watched from its first create or run (see leftovers.ts). */
  private watch(id: string): ContainerWatch {
    let watch = this.watches.get(id);
    if (!watch) {
      const known = () => this.rt.containers.get(id);
      const ref: ContainerRef = {
        id,
        root: this.rt.root,
        // Read at each look: a later create or run of the id adds to them.
        get bundle() {
          return known()?.bundle;
        },
        get held() {
          return known()?.stdio;
        },
        // Other cases run containers on the shared rootfs meanwhile: a process rooted there is no evidence.
        sharedRootfs: this.suite.rootfs.shared,
      };
      this.watches.set(id, (watch = new ContainerWatch(ref)));
    }
    return watch;
  }

  /** What container `id` left on the host (leftovers.ts); none when it is gone as it should be. */
  leftovers(id: string): Leftover[] {
    return this.watch(id).leftovers();
  }

  path = (name: string): string => join(this.dir, name);

  /** A new directory under the case's own. */
  hostDir(name: string): string {
    const dir = this.path(name);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** A container id no other case (or suite run) uses: runc names default cgroups after ids. */
  newId(): string {
    const id = `conformance-${this.suite.token}-${++idCounter}`;
    this.issued.push(id);
    return id;
  }

  /** The base config on the shared rootfs, running `sh -c script`. */
  config(script = 'true'): Config {
    return baseConfig(this.suite.rootfs.shared, this.marker, script);
  }

  /**
   * A bundle holding config.json. With `ownRootfs`, the bundle gets a
   * private copy of the rootfs and root.path becomes the conventional
   * relative "rootfs".
   */
  bundle(config: Config, ownRootfs = false): string {
    const dir = this.hostDir(`bundle-${++this.made}`);
    if (ownRootfs) {
      this.suite.rootfs.copy(dir);
      config.root = { ...config.root, path: 'rootfs' };
    }
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
    return dir;
  }

  /** A cgroup path under the suite's own parent, removed at cleanup. */
  cgroupPath(name: string): string {
    // Prefixed: a cgroup may not be named like a controller file (cpu.shares, …).
    const path = `/runts-conformance-${this.suite.token}/case-${name}`;
    this.cgroups.push(path);
    return path;
  }

  onCleanup(fn: () => void | Promise<void>): void {
    this.cleanups.push(fn);
  }

  /** Every step runs even if an earlier one failed: a cleanup must never leave the rest undone. */
  async finish(): Promise<void> {
    const ids = [...new Set([...this.issued, ...this.rt.ids])];
    // Whatever a container left that runs: in its namespaces or cgroups, an init
    // (none carries the marker), anything holding a file of the case's directory.
    const processes = () => [
      ...ids.flatMap((id) =>
        this.watch(id)
          .leftovers()
          .filter((l) => l.kind === 'process'),
      ),
      ...processesHolding([this.dir]),
      ...processesWithEnv(this.marker).map((pid): Leftover => ({ kind: 'process', where: String(pid), pid })),
    ];
    const steps: (() => unknown)[] = [
      async () => {
        for (const id of ids) await this.rt.delete(id, true);
      },
      async () => {
        for (const id of await this.rt.list()) if (!ids.includes(id)) await this.rt.delete(id, true);
      },
      async () => {
        removeLeftovers(processes());
        await waitFor(() => processes().length === 0, 5000);
      },
      ...this.cleanups.reverse(),
      () => unmountUnder(this.dir),
      ...this.cgroups.map((path) => () => cgroupLayout().remove(path)),
      () => cgroupLayout().removeNamed(new Set(ids)),
      () => removeLeftovers(ids.flatMap((id) => this.leftovers(id))),
      () => [...this.watches.values()].forEach((w) => w.release()),
      () => rmSync(this.dir, { recursive: true, force: true }),
    ];
    for (const step of steps) {
      try {
        await step();
      } catch {
        // Best effort: the next steps still run.
      }
    }
  }
}
