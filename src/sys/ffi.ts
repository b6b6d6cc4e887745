/**
 * The real Sys: glibc's functions called through ffi-rs on the calling (main)
 * thread. See ARCHITECTURE.md, "Verified platform facts", for why no call here
 * may fork and why execve's vectors are built by hand.
 *
 * Calls whose glibc wrapper is newer than the oldest glibc Node 20 runs on
 * (2.28), or that have none, go through syscall(2): pivot_root, mknodat,
 * close_range, pidfd_open, pidfd_send_signal.
 */
import { chmodSync, chownSync } from 'node:fs';
import { createRequire } from 'node:module';
import { getSystemErrorMap } from 'node:util';
import { SCMP_ACT_NOTIFY } from './constants';
import { type CapabilitySets, type SeccompFilter, type Sys, SysError } from './types';

type FfiRs = typeof import('ffi-rs');

/**
 * A C argument, typed by its JavaScript value: string = const char*,
 * null = NULL, number = int or unsigned int (same register bits), bigint =
 * long, unsigned long, size_t or a pointer, Buffer = a pointer to its bytes
 * (ffi-rs passes the Buffer's own memory, no copy: verified, so the callee's
 * writes, e.g. capget's, land in it).
 */
type CArg = string | null | number | bigint | Buffer;

interface ErrnoResult<T> {
  value: T;
  errnoCode: number;
  errnoMessage: string;
}

type SyscallName = 'pivot_root' | 'mknodat' | 'pidfd_send_signal' | 'pidfd_open' | 'close_range';

const SYSCALLS: Readonly<Record<string, Readonly<Record<SyscallName, number>>>> = {
  x64: { pivot_root: 155, mknodat: 259, pidfd_send_signal: 424, pidfd_open: 434, close_range: 436 },
  arm64: { pivot_root: 41, mknodat: 33, pidfd_send_signal: 424, pidfd_open: 434, close_range: 436 },
};

const AT_FDCWD = -100;
const EINVAL = 22;
const ENOMEM = 12;
/** _LINUX_CAPABILITY_VERSION_3: two 32-bit halves per capability set. */
const CAPABILITY_VERSION_3 = 0x20080522;
const LIBC = 'libc';
const LIBSECCOMP = 'libseccomp';
const AF_UNIX = 1;
const SOCK_STREAM_CLOEXEC = 1 | 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const EEXIST = 17;

/** ffi-rs's errnoMessage is Rust's "Text (os error N)"; keep strerror's text. */
const errnoText = (message: string): string => message.replace(/ \(os error \d+\)$/, '');

/** strerror-like text for an errno that came back as a return value. */
const errnoName = (errno: number): string => getSystemErrorMap().get(-errno)?.[1] ?? `errno ${errno}`;

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

/** The kernel's dev_t for mknodat (new_encode_dev): 12-bit major, 20-bit minor. */
function encodeDev(major: number, minor: number): number | undefined {
  if (major < 0 || major > 0xfff || minor < 0 || minor > 0xfffff) return undefined;
  return (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12);
}

export class FfiSys implements Sys {
  readonly #ffi: FfiRs;
  #seccompOpen = false;
  readonly #nr: Readonly<Record<SyscallName, number>>;

  constructor() {
    const nr = SYSCALLS[process.arch];
    if (!nr) throw new Error(`runts: unsupported architecture ${process.arch}`);
    this.#nr = nr;
    // Loaded here, not imported at the top, so that importing src/sys costs
    // nothing until a command really needs libc (ffi-rs takes ~6-8 ms to load).
    this.#ffi = createRequire(import.meta.url)('ffi-rs') as FfiRs;
    this.#ffi.open({ library: LIBC, path: 'libc.so.6' });
  }

  // --- mounts and the root ---

  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void {
    const detail = `${source ?? 'none'} on ${target}${fstype ? ` (${fstype})` : ''}`;
    this.#check('mount', detail, 'mount', [source, target, fstype, BigInt(flags), data]);
  }

  umount2(target: string, flags: number): void {
    this.#check('umount2', target, 'umount2', [target, flags]);
  }

  pivotRoot(newRoot: string, putOld: string): void {
    this.#syscall('pivot_root', `${newRoot} (put_old ${putOld})`, [newRoot, putOld]);
  }

  chroot(path: string): void {
    this.#check('chroot', path, 'chroot', [path]);
  }

  chdir(path: string): void {
    this.#check('chdir', path, 'chdir', [path]);
  }

  mknod(path: string, mode: number, major: number, minor: number): void {
    const detail = `${path} (${major}:${minor})`;
    const dev = encodeDev(major, minor);
    if (dev === undefined) throw new SysError('mknod', EINVAL, detail, 'Invalid argument (device number out of range)');
    this.#syscall('mknodat', detail, [BigInt(AT_FDCWD), path, BigInt(mode), BigInt(dev)], 'mknod');
  }

  symlink(target: string, path: string): void {
    this.#check('symlink', `${path} -> ${target}`, 'symlink', [target, path]);
  }

  // Node's own sync calls do these on the calling (main) thread; they sit
  // here so that the recording double sees them with the rest.
  chmod(path: string, mode: number): void {
    chmodSync(path, mode);
  }

  chown(path: string, uid: number, gid: number): void {
    chownSync(path, uid, gid);
  }

  umask(mask: number): number {
    return this.#check('umask', hex(mask), 'umask', [mask]);
  }

  // --- namespaces ---

  unshare(flags: number): void {
    this.#check('unshare', hex(flags), 'unshare', [flags]);
  }

  setns(fd: number, nstype: number): void {
    this.#check('setns', `fd ${fd} (${hex(nstype)})`, 'setns', [fd, nstype]);
  }

  sethostname(name: string): void {
    this.#check('sethostname', JSON.stringify(name), 'sethostname', [name, BigInt(Buffer.byteLength(name))]);
  }

  setdomainname(name: string): void {
    this.#check('setdomainname', JSON.stringify(name), 'setdomainname', [name, BigInt(Buffer.byteLength(name))]);
  }

  // --- credentials and capabilities ---

  setgroups(gids: number[]): void {
    const list = Buffer.from(new Uint32Array(gids).buffer);
    this.#check('setgroups', `[${gids.join(',')}]`, 'setgroups', [BigInt(gids.length), list]);
  }

  setresgid(rgid: number, egid: number, sgid: number): void {
    this.#check('setresgid', `${rgid} ${egid} ${sgid}`, 'setresgid', [rgid, egid, sgid]);
  }

  setresuid(ruid: number, euid: number, suid: number): void {
    this.#check('setresuid', `${ruid} ${euid} ${suid}`, 'setresuid', [ruid, euid, suid]);
  }

  capget(): CapabilitySets {
    const data = new Uint32Array(6);
    this.#check('capget', '', 'capget', [capHeader(), Buffer.from(data.buffer)]);
    // data = [effective, permitted, inheritable] low halves, then high halves.
    const set = (i: number): bigint => BigInt(data[i]) | (BigInt(data[i + 3]) << 32n);
    return { effective: set(0), permitted: set(1), inheritable: set(2) };
  }

  capset(sets: CapabilitySets): void {
    const { effective: e, permitted: p, inheritable: i } = sets;
    const low = (v: bigint): number => Number(v & 0xffff_ffffn);
    const high = (v: bigint): number => Number((v >> 32n) & 0xffff_ffffn);
    const data = new Uint32Array([low(e), low(p), low(i), high(e), high(p), high(i)]);
    const detail = `effective=${hex(e)} permitted=${hex(p)} inheritable=${hex(i)}`;
    this.#check('capset', detail, 'capset', [capHeader(), Buffer.from(data.buffer)]);
  }

  prctl(option: number, arg2: number | bigint = 0, arg3: number | bigint = 0, arg4: number | bigint = 0, arg5: number | bigint = 0): number {
    return this.#check('prctl', `option ${option} (${arg2})`, 'prctl', [option, BigInt(arg2), BigInt(arg3), BigInt(arg4), BigInt(arg5)]);
  }

  setrlimit(resource: number, soft: bigint, hard: bigint): void {
    const rlimit = Buffer.from(new BigUint64Array([soft, hard]).buffer);
    this.#check('setrlimit', `resource ${resource} (${soft}, ${hard})`, 'setrlimit', [resource, rlimit]);
  }

  // --- files and descriptors ---

  flock(fd: number, operation: number): void {
    this.#check('flock', `fd ${fd}`, 'flock', [fd, operation]);
  }

  fcntl(fd: number, cmd: number, arg: number): number {
    return this.#check('fcntl', `fd ${fd} cmd ${cmd}`, 'fcntl', [fd, cmd, arg]);
  }

  closeRange(first: number, last: number, flags: number): void {
    // `>>> 0` so that -1 means ~0U, "up to the last descriptor".
    this.#syscall('close_range', `${first}..${last >>> 0}`, [BigInt(first >>> 0), BigInt(last >>> 0), BigInt(flags)]);
  }

  dup2(oldfd: number, newfd: number): void {
    this.#check('dup2', `${oldfd} to ${newfd}`, 'dup2', [oldfd, newfd]);
  }

  // --- processes ---

  execve(path: string, argv: string[], envp: string[]): never {
    // StringArray is not NULL-terminated (ARCHITECTURE.md fact 6): build each
    // char*[] from strdup'ed C strings plus a NULL. 8-byte pointers: x64, arm64.
    const owned: bigint[] = [];
    const vector = (strings: string[]): Buffer => {
      const pointers = strings.map((s) => {
        const p = this.#invoke<bigint>('execve', path, 'strdup', this.#ffi.DataType.BigInt, [s]).value;
        if (p === 0n) throw new SysError('execve', ENOMEM, path, 'Cannot allocate memory');
        owned.push(p);
        return p;
      });
      return Buffer.from(new BigUint64Array([...pointers, 0n]).buffer);
    };
    try {
      const args = [path, vector(argv), vector(envp)];
      const r = this.#invoke<number>('execve', path, 'execve', this.#ffi.DataType.I32, args);
      // execve returns only when it failed.
      throw new SysError('execve', r.errnoCode, path, errnoText(r.errnoMessage));
    } finally {
      for (const p of owned) this.#invoke('execve', path, 'free', this.#ffi.DataType.Void, [p]);
    }
  }

  pidfdOpen(pid: number): number {
    return this.#syscall('pidfd_open', `pid ${pid}`, [BigInt(pid), 0n]);
  }

  pidfdSendSignal(pidfd: number, signal: number): void {
    this.#syscall('pidfd_send_signal', `pidfd ${pidfd} signal ${signal}`, [BigInt(pidfd), BigInt(signal), null, 0n]);
  }

  getpid(): number {
    return this.#check('getpid', '', 'getpid', []);
  }

  // --- the calling convention ---

  /** Calls an int-returning libc function; -1 becomes SysError(call, errno). */
  // --- seccomp ---

  openSeccomp(): void {
    if (this.#seccompOpen) return;
    try {
      this.#ffi.open({ library: LIBSECCOMP, path: 'libseccomp.so.2' });
    } catch (err) {
      throw new SysError('dlopen', 2, 'libseccomp.so.2', `${(err as Error).message} (install libseccomp2)`);
    }
    this.#seccompOpen = true;
  }

  loadSeccomp(filter: SeccompFilter): { notifyFd: number; skipped: string[] } {
    this.openSeccomp();
    const { DataType } = this.#ffi;
    const lib = (call: string, detail: string, fn: string, ret: number, args: readonly CArg[]) =>
      this.#invoke<number>(call, detail, fn, ret, args, LIBSECCOMP).value;
    // libseccomp returns -errno rather than setting errno.
    const check = (what: string, detail: string, rc: number, tolerated: number[] = []) => {
      if (rc < 0 && !tolerated.includes(-rc)) throw new SysError(what, -rc, detail, errnoName(-rc));
    };
    const ctx = this.#invoke<bigint>('seccomp_init', '', 'seccomp_init', DataType.BigInt, [filter.defaultAction], LIBSECCOMP).value;
    if (ctx === 0n) throw new SysError('seccomp_init', EINVAL, hex(filter.defaultAction), 'invalid default action');
    try {
      for (const name of filter.architectures) {
        const token = lib('seccomp_arch_resolve_name', name, 'seccomp_arch_resolve_name', DataType.I32, [name]);
        if (token === 0) throw new SysError('seccomp_arch_resolve_name', EINVAL, name, 'unknown architecture');
        check('seccomp_arch_add', name, lib('seccomp_arch_add', name, 'seccomp_arch_add', DataType.I32, [ctx, token]), [EEXIST]);
      }
      for (const [attr, value] of filter.attributes) {
        check('seccomp_attr_set', String(attr), lib('seccomp_attr_set', String(attr), 'seccomp_attr_set', DataType.I32, [ctx, attr, value]));
      }
      const skipped: string[] = [];
      for (const rule of filter.rules) {
        const nr = lib('seccomp_syscall_resolve_name', rule.syscall, 'seccomp_syscall_resolve_name', DataType.I32, [rule.syscall]);
        if (nr < 0) {
          skipped.push(rule.syscall);
          continue;
        }
        // struct scmp_arg_cmp { unsigned arg; enum op; u64 datum_a; u64 datum_b }: 24 bytes.
        const conds = Buffer.alloc(24 * rule.conditions.length);
        rule.conditions.forEach((c, i) => {
          conds.writeUInt32LE(c.arg, 24 * i);
          conds.writeUInt32LE(c.op, 24 * i + 4);
          conds.writeBigUInt64LE(BigInt.asUintN(64, BigInt(c.a)), 24 * i + 8);
          conds.writeBigUInt64LE(BigInt.asUintN(64, BigInt(c.b)), 24 * i + 16);
        });
        const args: CArg[] = [ctx, rule.action, nr, rule.conditions.length, rule.conditions.length ? conds : null];
        check('seccomp_rule_add', rule.syscall, lib('seccomp_rule_add', rule.syscall, 'seccomp_rule_add_array', DataType.I32, args));
      }
      check('seccomp_load', '', lib('seccomp_load', '', 'seccomp_load', DataType.I32, [ctx]));
      const notifies = filter.rules.some((r) => r.action === SCMP_ACT_NOTIFY);
      const notifyFd = notifies ? lib('seccomp_notify_fd', '', 'seccomp_notify_fd', DataType.I32, [ctx]) : -1;
      if (notifies) check('seccomp_notify_fd', '', notifyFd);
      return { notifyFd, skipped };
    } finally {
      this.#invoke('seccomp_release', '', 'seccomp_release', DataType.Void, [ctx], LIBSECCOMP);
    }
  }

  // --- unix sockets ---

  connectUnix(path: string): number {
    const fd = this.#check('socket', path, 'socket', [AF_UNIX, SOCK_STREAM_CLOEXEC, 0]);
    // struct sockaddr_un { sa_family_t sun_family; char sun_path[108] }
    const addr = Buffer.alloc(110);
    addr.writeUInt16LE(AF_UNIX, 0);
    if (Buffer.byteLength(path) > 107) throw new SysError('connect', EINVAL, path, 'socket path too long');
    addr.write(path, 2);
    try {
      this.#check('connect', path, 'connect', [fd, addr, addr.length]);
    } catch (err) {
      this.#check('close', path, 'close', [fd]);
      throw err;
    }
    return fd;
  }

  sendFds(socket: number, payload: Buffer, fds: number[]): void {
    // msghdr -> iovec -> payload and msghdr -> cmsghdr hold real addresses:
    // put those pieces in malloc'ed memory (a Buffer's address is not ours to take).
    const { DataType } = this.#ffi;
    const owned: bigint[] = [];
    const cCopy = (bytes: Buffer): bigint => {
      const p = this.#invoke<bigint>('sendmsg', '', 'malloc', DataType.BigInt, [BigInt(Math.max(bytes.length, 1))]).value;
      if (p === 0n) throw new SysError('sendmsg', ENOMEM, '', 'Cannot allocate memory');
      owned.push(p);
      this.#invoke('sendmsg', '', 'memcpy', DataType.BigInt, [p, bytes, BigInt(bytes.length)]);
      return p;
    };
    try {
      const data = payload.length ? payload : Buffer.from([0]);
      const iov = Buffer.alloc(16);
      iov.writeBigUInt64LE(cCopy(data), 0);
      iov.writeBigUInt64LE(BigInt(data.length), 8);
      // struct cmsghdr { size_t len; int level; int type; int fds[] }, padded to 8.
      const cmsgLen = 16 + 4 * fds.length;
      const control = Buffer.alloc((cmsgLen + 7) & ~7);
      control.writeBigUInt64LE(BigInt(cmsgLen), 0);
      control.writeInt32LE(SOL_SOCKET, 8);
      control.writeInt32LE(SCM_RIGHTS, 12);
      fds.forEach((fd, i) => control.writeInt32LE(fd, 16 + 4 * i));
      // struct msghdr { name; namelen+pad; iov; iovlen; control; controllen; flags+pad }: 56 bytes.
      const msg = Buffer.alloc(56);
      msg.writeBigUInt64LE(cCopy(iov), 16);
      msg.writeBigUInt64LE(1n, 24);
      msg.writeBigUInt64LE(cCopy(control), 32);
      msg.writeBigUInt64LE(BigInt(control.length), 40);
      const r = this.#invoke<number>('sendmsg', String(socket), 'sendmsg', DataType.I64, [socket, msg, 0]);
      if (r.value < 0) throw new SysError('sendmsg', r.errnoCode, String(socket), errnoText(r.errnoMessage));
    } finally {
      for (const p of owned) this.#invoke('sendmsg', '', 'free', DataType.Void, [p]);
    }
  }

  #check(call: string, detail: string, funcName: string, args: readonly CArg[]): number {
    const r = this.#invoke<number>(call, detail, funcName, this.#ffi.DataType.I32, args);
    if (r.value === -1) throw new SysError(call, r.errnoCode, detail, errnoText(r.errnoMessage));
    return r.value;
  }

  /** syscall(SYS_name, args...), which returns a long; errors as #check. */
  #syscall(name: SyscallName, detail: string, args: readonly CArg[], call: string = name): number {
    const r = this.#invoke<number>(call, detail, 'syscall', this.#ffi.DataType.I64, [BigInt(this.#nr[name]), ...args]);
    if (r.value === -1) throw new SysError(call, r.errnoCode, detail, errnoText(r.errnoMessage));
    return r.value;
  }

  #invoke<T>(call: string, detail: string, funcName: string, retType: number, args: readonly CArg[], library = LIBC): ErrnoResult<T> {
    const { DataType } = this.#ffi;
    const paramsType: number[] = [];
    const paramsValue: unknown[] = [];
    for (const a of args) {
      // C strings end at NUL: a string holding one would silently be cut there.
      if (typeof a === 'string' && a.includes('\0')) {
        throw new SysError(call, EINVAL, detail, 'Invalid argument (string contains a NUL byte)');
      }
      const [type, value] =
        a === null ? [DataType.BigInt, 0n]
        : typeof a === 'string' ? [DataType.String, a]
        : typeof a === 'number' ? [DataType.I32, a | 0]
        : typeof a === 'bigint' ? [DataType.BigInt, a]
        : [DataType.U8Array, a];
      paramsType.push(type);
      paramsValue.push(value);
    }
    try {
      return this.#ffi.load({ library, funcName, retType, paramsType, paramsValue, errno: true }) as unknown as ErrnoResult<T>;
    } catch (err) {
      // ffi-rs reports a type mismatch as an Error with an empty message and
      // only a code (e.g. "BigintExpected"): name the function at least.
      const code = (err as { code?: string }).code;
      throw new Error(`ffi-rs: ${funcName}: ${(err as Error).message || code || 'call failed'}`);
    }
  }
}

/** struct __user_cap_header_struct { u32 version; i32 pid = 0 (this thread) }. */
function capHeader(): Buffer {
  return Buffer.from(new Uint32Array([CAPABILITY_VERSION_3, 0]).buffer);
}
