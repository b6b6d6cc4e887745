/**
 * A throwaway Linux VM for tests that need another kernel setup than the
 * host's (cgroup v2): Debian's generic kernel (linux-image-amd64) booted by
 * qemu in software emulation, with the host's / shared read-only over 9p.
 * A small initramfs (busybox and the 9p, virtio and overlay modules) makes
 * the VM's root an overlay of it with a tmpfs on top (the VM writes where
 * it likes; the host sees none of it), a tmpfs on /run, cgroup2 on
 * /sys/fs/cgroup, and switches to it to run one shell script. What the
 * script prints comes back on the serial console; the VM powers off when
 * it is done. No network device: nothing leaves the host.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { tempDir } from './cli';

const QEMU = 'qemu-system-x86_64';
const BUSYBOX = '/bin/busybox';
/** Loaded in this order, each after the modules it depends on (modules.dep). */
const MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'];
export const START_MARK = '=== vm: start';
export const END_MARK = '=== vm: exit';

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

const stage1 = (modules: string[]) => `#!/bin/busybox sh
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
mount -t cgroup2 cgroup2 /newroot/sys/fs/cgroup || fail "cgroup2"
cp /stage2.sh /newroot/run/stage2.sh
exec switch_root /newroot /bin/sh /run/stage2.sh
`;

const stage2 = (script: string) => `#!/bin/sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TMPDIR=/tmp
echo "${START_MARK}"
( ${script} )
echo "${END_MARK} $?"
${BUSYBOX} poweroff -f
`;

/** An initramfs (an uncompressed newc cpio) holding busybox, the modules and both stages. */
function initramfs(kernel: Kernel, script: string): string {
  const dir = join(tempDir('runts-vm-'), 'root');
  for (const sub of ['bin', 'lib/modules', 'proc', 'sys', 'dev']) mkdirSync(join(dir, sub), { recursive: true });
  copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  const modules = moduleFiles(kernel);
  for (const m of modules) copyFileSync(join(kernel.modules, m), join(dir, 'lib/modules', basename(m)));
  writeFileSync(join(dir, 'init'), stage1(modules), { mode: 0o755 });
  writeFileSync(join(dir, 'stage2.sh'), stage2(script), { mode: 0o755 });
  const image = join(dir, '..', 'initrd.cpio');
  const r = spawnSync('sh', ['-c', `cd "${dir}" && find . | ${BUSYBOX} cpio -o -H newc > "${image}"`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`initramfs: ${r.stderr}`);
  return image;
}

export interface VmRun {
  qemu: ChildProcess;
  /** The console output, once the VM is off; rejects after timeoutMs (the VM is killed). */
  output: Promise<string>;
}

/** Boots the VM and runs script (sh) in it. What the script prints goes to echo, line by line, as it comes. */
export function runInVm(script: string, timeoutMs: number, echo: (lines: string) => void): VmRun {
  const kernel = findKernel()!;
  const qemu = spawn(
    QEMU,
    [
      '-machine',
      'q35',
      '-accel',
      'tcg,thread=multi',
      '-smp',
      '2',
      '-m',
      '2048',
      '-nodefaults',
      '-display',
      'none',
      '-serial',
      'stdio',
      '-no-reboot',
      '-kernel',
      kernel.image,
      '-initrd',
      initramfs(kernel, script),
      '-append',
      'console=ttyS0 quiet loglevel=1 panic=-1',
      '-fsdev',
      'local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap',
      '-device',
      'virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
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
