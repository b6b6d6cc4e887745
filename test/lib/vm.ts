/**
 * A throwaway Linux VM for tests that need another kernel setup than the
 * host's (cgroup v2): Debian's generic kernel (linux-image-amd64) booted by
 * qemu in software emulation, with the host's / shared read-only over 9p.
 * A small initramfs (busybox and the 9p, virtio and overlay modules) makes
 * the VM's root an overlay of it with a tmpfs on top (the VM writes where
 * it likes; the host sees none of it) and a tmpfs on /run, and switches to
 * it to run one shell script, in one of two ways:
 *   - plain: the script runs as PID 1, with cgroup2 on /sys/fs/cgroup;
 *   - systemd (a Systemd given): the host's systemd is PID 1, on pure cgroup
 *     v2 as on most production hosts (or on v1), and starts only a target of the
 *     test's own: the units the test names, their dependencies, and a
 *     service that runs the script.
 * What the script prints comes back on the serial console; the VM powers
 * off when it is done. No network device: nothing leaves the host.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { TOP, tempDir } from './cli';

const QEMU = 'qemu-system-x86_64';
const BUSYBOX = '/bin/busybox';
export const SYSTEMD = '/lib/systemd/systemd';
/** Loaded in this order, each after the modules it depends on (modules.dep). */
const MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'];
export const START_MARK = '=== vm: start';
export const END_MARK = '=== vm: exit';

/** What a systemd boot starts besides its basic system, and what it finds in its root. */
export interface Systemd {
  /** Units started (and waited for) before the script: e.g. docker.service. */
  units: string[];
  /** Files written into the VM's root before systemd starts (path -> content), e.g. a daemon's config. */
  files?: Record<string, string>;
  /**
   * Directories that get a tmpfs of their own, for what cannot live on an
   * overlay (e.g. an overlay2 storage). /tmp always gets one (as with
   * tmp.mount): systemd-tmpfiles empties /tmp at boot, which over 9p takes
   * minutes.
   */
  tmpfs?: string[];
  /** The VM's memory, MiB (default 2048). */
  memoryMb?: number;
  /** Boot systemd on cgroup v1 (its legacy hierarchy, as this host has) instead of pure v2. */
  cgroupV1?: boolean;
}

export interface Kernel {
  image: string;
  modules: string;
}

/** Why no VM can run here, or undefined when one can. */
export function vmUnavailable(): string | undefined {
  if (process.arch !== 'x64') return `the VM is an x86_64 one; this host is ${process.arch}`;
  if (spawnSync(QEMU, ['--version']).status !== 0) return `${QEMU} is not installed (Debian package qemu-system-x86)`;
  if (!findKernel()) return 'no kernel with 9p modules in /boot (Debian package linux-image-amd64)';
  if (spawnSync(BUSYBOX, ['--list']).status !== 0) return `${BUSYBOX} is missing (Debian package busybox-static)`;
  return undefined;
}

/** The newest /boot/vmlinuz-* whose modules include 9p (the cloud kernel has none). */
export function findKernel(): Kernel | undefined {
  const versions = existsSync('/boot')
    ? readdirSync('/boot')
        .filter((f) => f.startsWith('vmlinuz-'))
        .map((f) => f.slice('vmlinuz-'.length))
    : [];
  const usable = versions.filter((v) => /\/9p\.ko(\.\w+)?:/.test(readIfAny(`/lib/modules/${v}/modules.dep`)));
  const newest = usable.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).pop();
  return newest ? { image: `/boot/vmlinuz-${newest}`, modules: `/lib/modules/${newest}` } : undefined;
}

function readIfAny(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The module files to insmod, dependencies first; modules built into the kernel need none. */
function moduleFiles(kernel: Kernel): string[] {
  const deps = new Map<string, string[]>();
  for (const line of readFileSync(join(kernel.modules, 'modules.dep'), 'utf8').split('\n')) {
    const [mod = '', rest] = line.split(':');
    if (rest !== undefined) deps.set(mod, rest.trim().split(/\s+/).filter(Boolean));
  }
  const order: string[] = [];
  const add = (path: string) => {
    if (order.includes(path)) return;
    for (const dep of deps.get(path) ?? []) add(dep);
    order.push(path);
  };
  for (const name of MODULES) {
    const path = [...deps.keys()].find((m) => basename(m).replace(/\.ko(\.\w+)?$/, '') === name);
    if (path) add(path);
  }
  return order;
}

const TEST_TARGET = 'runts-vm.target';
const TEST_SERVICE = 'runts-vm.service';

/**
 * Units masked in a systemd boot: the waits for a network the VM does not
 * have (docker.service wants network-online.target), and the host's timers,
 * which would start apt, man-db or fstrim in the middle of a test.
 */
function maskedUnits(): string[] {
  const waits = ['systemd-networkd-wait-online.service', 'NetworkManager-wait-online.service', 'ifupdown-wait-online.service'];
  const wants = existsSync('/etc/systemd/system') ? readdirSync('/etc/systemd/system').filter((d) => d.endsWith('.wants')) : [];
  const timers = wants.flatMap((d) => readdirSync(join('/etc/systemd/system', d)).filter((u) => u.endsWith('.timer')));
  return [...new Set([...waits, ...timers])];
}

/** The units of a systemd boot: the target it boots, and the service that runs the script (its output on the console). */
function testUnits(units: string[]): Record<string, string> {
  const all = [...units, TEST_SERVICE].join(' ');
  return {
    [TEST_TARGET]: `[Unit]
Description=runts test VM
Requires=basic.target
Wants=${all}
After=basic.target
AllowIsolate=yes
`,
    [TEST_SERVICE]: `[Unit]
Description=runts test VM: the test script
After=${units.join(' ')}
[Service]
Type=exec
ExecStart=/bin/sh /run/stage2.sh
StandardOutput=tty
StandardError=tty
TTYPath=/dev/console
TTYReset=no
TTYVHangup=no
`,
  };
}

const stage1 = (modules: string[], systemd?: Systemd) => `#!/bin/busybox sh
/bin/busybox --install -s /bin
fail() { echo "${END_MARK} 99: $*"; poweroff -f; }
mount -t proc proc /proc && mount -t sysfs sysfs /sys && mount -t devtmpfs devtmpfs /dev || fail "base mounts"
for m in ${modules.map((m) => basename(m)).join(' ')}; do insmod /lib/modules/$m || fail "insmod $m"; done
mkdir -p /host /rw /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /host || fail "9p"
mount -t tmpfs tmpfs /rw && mkdir /rw/upper /rw/work || fail "tmpfs"
mount -t overlay overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work /newroot || fail "overlay root"
mount -t tmpfs tmpfs /newroot/run || fail "/run"
for d in dev proc sys; do mount --move /$d /newroot/$d || fail "move /$d"; done
cp /stage2.sh /newroot/run/stage2.sh
${
  systemd
    ? `cp -a /files/. /newroot/ || fail "files"
# The host may be a container: the VM is not one (systemd would take itself for a container's init).
rm -f /newroot/.dockerenv /newroot/run/.containerenv
# The project stays in sight where a tmpfs covers it (a clone under /tmp, as CI's may be).
mkdir -p /keep && mount --bind /newroot${TOP} /keep || fail "keep ${TOP}"
for d in /tmp ${(systemd.tmpfs ?? []).join(' ')}; do mkdir -p /newroot$d && mount -t tmpfs tmpfs /newroot$d || fail "tmpfs $d"; done
mkdir -p /newroot${TOP} && mount --move /keep /newroot${TOP} || fail "back ${TOP}"
exec switch_root /newroot ${SYSTEMD}`
    : `mount -t cgroup2 cgroup2 /newroot/sys/fs/cgroup || fail "cgroup2"
exec switch_root /newroot /bin/sh /run/stage2.sh`
}
`;

const stage2 = (script: string) => `#!/bin/sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TMPDIR=/tmp
echo "${START_MARK}"
( ${script} )
echo "${END_MARK} $?"
${BUSYBOX} poweroff -f
`;

/** The files a systemd boot adds to the VM's root, under dir: the test's own, the units, the masks. */
function writeSystemdFiles(dir: string, systemd: Systemd): void {
  const write = (path: string, content: string) => {
    mkdirSync(join(dir, dirname(path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  };
  // The VM has no disks: the host's fstab names none of its.
  write('/etc/fstab', '# the runts test VM: no disks\n');
  for (const [path, content] of Object.entries(systemd.files ?? {})) write(path, content);
  for (const [name, content] of Object.entries(testUnits(systemd.units))) write(`/etc/systemd/system/${name}`, content);
  for (const name of maskedUnits()) symlinkSync('/dev/null', join(dir, 'etc/systemd/system', name));
}

/** An initramfs (an uncompressed newc cpio) holding busybox, the modules and both stages (and the systemd boot's files). */
function initramfs(kernel: Kernel, script: string, systemd?: Systemd): string {
  const dir = join(tempDir('runts-vm-'), 'root');
  for (const sub of ['bin', 'lib/modules', 'proc', 'sys', 'dev']) mkdirSync(join(dir, sub), { recursive: true });
  copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  const modules = moduleFiles(kernel);
  for (const m of modules) copyFileSync(join(kernel.modules, m), join(dir, 'lib/modules', basename(m)));
  writeFileSync(join(dir, 'init'), stage1(modules, systemd), { mode: 0o755 });
  if (systemd) writeSystemdFiles(join(dir, 'files'), systemd);
  writeFileSync(join(dir, 'stage2.sh'), stage2(script), { mode: 0o755 });
  const image = join(dir, '..', 'initrd.cpio');
  const r = spawnSync('sh', ['-c', `cd "${dir}" && find . | ${BUSYBOX} cpio -o -H newc > "${image}"`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`initramfs: ${r.stderr}`);
  return image;
}

/**
 * The VM's report as the host's runner should show it: its uvu summaries
 * relabelled, so that the host's runner (which reads "Total:", "Passed:",
 * "Skipped:") counts the host file's own report, not the VM's.
 */
export const asGuest = (lines: string): string =>
  lines.replace(
    /^(\s*)(Total|Passed|Skipped|Duration):/gm,
    (_, indent: string, word: string) => `${indent}vm ${word.toLowerCase()}:`,
  );

export interface VmRun {
  qemu: ChildProcess;
  /** The console output, once the VM is off; rejects after timeoutMs (the VM is killed). */
  output: Promise<string>;
}

/**
 * Boots the VM and runs script (sh) in it, with systemd as PID 1 when
 * systemd is given. What the script prints goes to echo, line by line, as
 * it comes.
 */
export function runInVm(script: string, timeoutMs: number, echo: (lines: string) => void, systemd?: Systemd): VmRun {
  const kernel = findKernel()!;
  const hierarchy = systemd?.cgroupV1
    ? 'systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=1'
    : 'systemd.unified_cgroup_hierarchy=1';
  const boot = systemd ? ` systemd.unit=${TEST_TARGET} ${hierarchy}` : '';
  // prettier-ignore
  const qemu = spawn(QEMU, [
    '-machine', 'q35', '-accel', 'tcg,thread=multi', '-smp', '2', '-m', String(systemd?.memoryMb ?? 2048),
    '-nodefaults', '-display', 'none', '-serial', 'stdio', '-no-reboot',
    '-kernel', kernel.image, '-initrd', initramfs(kernel, script, systemd),
    '-append', `console=ttyS0 quiet loglevel=1 panic=-1${boot}`,
    '-fsdev', 'local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap',
    '-device', 'virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let echoed = 0;
  qemu.stdout.setEncoding('utf8');
  qemu.stderr.setEncoding('utf8');
  const collect = (chunk: string) => {
    out += chunk;
    // From the script's first line on (before it: firmware and kernel noise).
    const from = out.indexOf(START_MARK);
    if (from < 0) return;
    const upTo = out.lastIndexOf('\n') + 1;
    if (upTo > Math.max(echoed, from)) echo(out.slice(Math.max(echoed, from), upTo));
    echoed = Math.max(echoed, upTo);
  };
  qemu.stdout.on('data', collect);
  qemu.stderr.on('data', collect);
  const output = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      qemu.kill('SIGKILL');
      reject(new Error(`the VM did not finish in ${timeoutMs / 1000} s (what it printed is above)`));
    }, timeoutMs);
    qemu.once('exit', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
  return { qemu, output };
}
