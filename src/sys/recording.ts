/**
 * RecordingSys: the Sys double for unit tests (youki's syscall/test.rs). It
 * records every call in order, keeps just enough state to answer like a root
 * process would (capabilities, bounding set, umask, dumpable, no_new_privs,
 * descriptor flags), and fails the calls it is told to fail.
 *
 * Mounts, namespaces and credentials are only recorded. Plain files are
 * real, on the directories a test gives it (no root needed): opened, made,
 * read, written and removed there, so that path walks, descriptors and
 * checks work as they do in the init. Their paths resolve as the init's
 * would: absolute ones under the root that the last recorded pivot_root or
 * chroot moved to, relative ones from the last chdir (symlinks, though,
 * resolve on the host). /proc/self/fd/… stays this process's: the
 * descriptors are real ones. Changes of owner, mode and times are only
 * recorded (owners need root), and a device node is an empty file that
 * stat describes as the node asked for.
 */
import { closeSync, openSync, readlinkSync, symlinkSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import {
  F_GETFD,
  F_SETFD,
  O_CLOEXEC,
  O_PATH,
  PR_CAPBSET_DROP,
  PR_CAPBSET_READ,
  PR_GET_DUMPABLE,
  PR_GET_NO_NEW_PRIVS,
  PR_SET_DUMPABLE,
  PR_SET_NO_NEW_PRIVS,
  PROC_SUPER_MAGIC,
  SECCOMP_FILTER_FLAG_NEW_LISTENER,
  S_IFREG,
} from './constants';
import { strerror } from './errno';
import { FfiSys } from './ffi';
import type { MountinfoEntry } from './mountinfo';
import { asSysError, nodeFiles } from './node-files';
import {
  type CapabilitySets,
  type FileStat,
  type MountAttributes,
  type SeccompArchLast,
  type SeccompExport,
  type SchedAttr,
  type SeccompFilter,
  type Sys,
  SysError,
  fileType,
} from './types';

export interface RecordedCall {
  call: keyof Sys;
  /** As passed, except that /proc/self/fd/N[/…] is the path that fd N named at the time. */
  args: unknown[];
  /** As passed, when that differs from args. */
  raw?: unknown[];
}

/** Thrown by RecordingSys.execve, which cannot return (its type is never). */
export class ExecveCalled extends Error {
  override name = 'ExecveCalled';
  constructor(
    readonly path: string,
    readonly argv: string[],
    readonly envp: string[],
  ) {
    super(`execve ${path}`);
  }
}

interface Failure {
  call: keyof Sys;
  errno: number;
  when: (args: unknown[]) => boolean;
}

/** The path that /proc/self/fd/N[/rest] names now (other strings as they are). */
function fdPathNamed(arg: string): string {
  const m = /^\/proc\/self\/fd\/(\d+)(\/.*)?$/.exec(arg);
  if (!m) return arg;
  try {
    return readlinkSync(`/proc/self/fd/${m[1]}`) + (m[2] ?? '');
  } catch {
    return arg;
  }
}

/** A netlink acknowledgement of request: NLMSG_ERROR carrying -errno (0: success) and the request's header. */
export function netlinkAck(request: Buffer, errno: number): Buffer {
  const reply = Buffer.alloc(36);
  reply.writeUInt32LE(36, 0);
  reply.writeUInt16LE(2, 4); // NLMSG_ERROR
  reply.writeUInt32LE(request.readUInt32LE(8), 8);
  reply.writeInt32LE(-errno, 16);
  request.copy(reply, 20, 0, 16);
  return reply;
}

/** What identifies a file, whatever its path. */
const fileKey = (st: FileStat): string => `${st.dev}:${st.ino}`;

/** SysError names the C function, as FfiSys does: pivotRoot -> pivot_root. */
const cName = (method: string): string => method.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Capabilities 0..40 (CAP_CHOWN..CAP_CHECKPOINT_RESTORE): a root process's sets. */
const ALL_CAPS = (1n << 41n) - 1n;

export class RecordingSys implements Sys {
  readonly calls: RecordedCall[] = [];
  caps: CapabilitySets = { effective: ALL_CAPS, permitted: ALL_CAPS, inheritable: 0n };
  readonly droppedFromBoundingSet = new Set<number>();
  pid = 4242;
  /** What fstatfs answers for an fd: procfs unless a test says otherwise. */
  filesystemOf: (fd: number) => number = () => PROC_SUPER_MAGIC;
  #umask = 0o022;
  #dumpable = 1;
  #noNewPrivs = 0;
  #nextPidfd = 100;
  readonly #fdFlags = new Map<number, number>();
  #real: FfiSys | undefined;
  /** Stand-ins made by mknod, by "dev:ino" (a path may be swapped, a file stays itself): what they are meant to be. */
  readonly #nodes = new Map<string, { mode: number; rdev: number }>();
  /** Where "/" is on the host: moved by pivotRoot and chroot. */
  #root = '/';
  /** Where the cwd is on the host: moved by chdir and fchdir. */
  #hostCwd = process.cwd();
  readonly #failures: Failure[] = [];

  /**
   * From now on, calls to `call` (for which `when(args)` holds, if given)
   * are recorded and then throw SysError with this errno.
   */
  failOn(call: keyof Sys, errno: number, when: (args: unknown[]) => boolean = () => true): this {
    this.#failures.push({ call, errno, when });
    return this;
  }

  /** The recorded calls to one method, in order. */
  callsTo(call: keyof Sys): unknown[][] {
    return this.calls.filter((c) => c.call === call).map((c) => c.args);
  }

  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void {
    this.#record('mount', [source, target, fstype, flags, data]);
  }

  mountSetattr(target: string | number, attributes: MountAttributes): void {
    this.#record('mountSetattr', [target, attributes]);
  }

  /** A detached mount is a descriptor of the source itself (O_PATH): fstat describes it. */
  openTreeClone(path: string, recursive: boolean): number {
    this.#record('openTreeClone', [path, recursive]);
    return nodeFiles.open(this.#onHost(path), O_PATH | O_CLOEXEC);
  }

  idmapMount(fd: number, usernsFd: number, recursive: boolean): void {
    this.#record('idmapMount', [fd, usernsFd, recursive]);
  }

  moveMount(fd: number, onto: number): void {
    this.#record('moveMount', [`/proc/self/fd/${fd}`, `/proc/self/fd/${onto}`]);
  }

  /**
   * The real call (it needs no root; unit tests give it temp dirs): how
   * RESOLVE_IN_ROOT resolves is the kernel's to say, not the double's.
   */
  openat2(dirfd: number, path: string, flags: number, resolve: number, mode = 0): number {
    this.#record('openat2', [dirfd, path, flags, resolve]);
    this.#real ??= new FfiSys();
    return this.#real.openat2(dirfd, path, flags, resolve, mode);
  }

  /** The double mounts nothing: every descriptor is on one mount, as if mounted where it is. */
  mountOf(fd: number): MountinfoEntry {
    this.#record('mountOf', [fd]);
    return { id: 1, parent: 1, mountPoint: readlinkSync(`/proc/self/fd/${fd}`) };
  }

  umount2(target: string, flags: number): void {
    this.#record('umount2', [target, flags]);
  }

  pivotRoot(newRoot: string, putOld: string): void {
    this.#record('pivotRoot', [newRoot, putOld]);
    this.#root = this.#onHost(newRoot);
  }

  chroot(path: string): void {
    this.#record('chroot', [path]);
    this.#root = this.#onHost(path);
  }

  fchdir(fd: number): void {
    this.#record('fchdir', [fd]);
    // A descriptor a test made up names no directory: the cwd stays.
    const named = fdPathNamed(`/proc/self/fd/${fd}`);
    if (!named.startsWith('/proc/self/fd/')) this.#hostCwd = named;
  }

  chdir(path: string): void {
    this.#record('chdir', [path]);
    this.cwd = path;
    this.#hostCwd = this.#onHost(path);
  }

  /** What getcwd answers: the last chdir's path (a test may set it, e.g. to "(unreachable)/"). */
  cwd = '/';

  getcwd(): string {
    this.#record('getcwd', []);
    return this.cwd;
  }

  /** Makes an empty file as a stand-in (no root needed), which stat describes as the node asked for. */
  mknod(path: string, mode: number, major: number, minor: number): void {
    this.#record('mknod', [path, mode, major, minor]);
    const fd = asSysError('mknod', path, () => openSync(this.#onHost(path), 'wx'));
    try {
      this.#nodes.set(fileKey(nodeFiles.fstat(fd)), { mode, rdev: (major << 8) | minor });
    } finally {
      closeSync(fd);
    }
  }

  symlink(target: string, path: string): void {
    this.#record('symlink', [target, path]);
    asSysError('symlink', path, () => symlinkSync(target, this.#onHost(path)));
  }

  chmod(path: string, mode: number): void {
    this.#record('chmod', [path, mode]);
  }

  chown(path: string, uid: number, gid: number): void {
    this.#record('chown', [path, uid, gid]);
  }

  umask(mask: number): number {
    this.#record('umask', [mask]);
    const previous = this.#umask;
    this.#umask = mask & 0o777;
    return previous;
  }

  open(path: string, flags: number, mode?: number): number {
    this.#record('open', [path, flags]);
    return nodeFiles.open(this.#onHost(path), flags, mode);
  }

  close(fd: number): void {
    this.#record('close', [fd]);
    nodeFiles.close(fd);
  }

  write(fd: number, data: string): number {
    this.#record('write', [fd, data]);
    return nodeFiles.write(fd, data);
  }

  readFile(path: string): string {
    this.#record('readFile', [path]);
    return nodeFiles.readFile(this.#onHost(path));
  }

  mkdir(path: string, mode: number): void {
    this.#record('mkdir', [path, mode]);
    nodeFiles.mkdir(this.#onHost(path), mode);
  }

  unlink(path: string): void {
    this.#record('unlink', [path]);
    const onHost = this.#onHost(path);
    const st = nodeFiles.lstat(onHost);
    nodeFiles.unlink(onHost);
    if (st) this.#nodes.delete(fileKey(st));
  }

  readdir(path: string): string[] {
    this.#record('readdir', [path]);
    return nodeFiles.readdir(this.#onHost(path));
  }

  readlink(path: string): string {
    this.#record('readlink', [path]);
    return nodeFiles.readlink(this.#onHost(path));
  }

  realpath(path: string): string {
    this.#record('realpath', [path]);
    return nodeFiles.realpath(this.#onHost(path));
  }

  stat(path: string): FileStat | undefined {
    this.#record('stat', [path]);
    const st = nodeFiles.stat(this.#onHost(path));
    return st && this.#asNode(st);
  }

  lstat(path: string): FileStat | undefined {
    this.#record('lstat', [path]);
    const st = nodeFiles.lstat(this.#onHost(path));
    return st && this.#asNode(st);
  }

  fstat(fd: number): FileStat {
    this.#record('fstat', [fd]);
    return this.#asNode(nodeFiles.fstat(fd));
  }

  copyFile(from: string, to: string): void {
    this.#record('copyFile', [from, to]);
    nodeFiles.copyFile(this.#onHost(from), this.#onHost(to));
  }

  lchown(path: string, uid: number, gid: number): void {
    this.#record('lchown', [path, uid, gid]);
  }

  lutimes(path: string, atimeMs: number, mtimeMs: number): void {
    this.#record('lutimes', [path, atimeMs, mtimeMs]);
  }

  unshare(flags: number): void {
    this.#record('unshare', [flags]);
  }

  setns(fd: number, nstype: number): void {
    this.#record('setns', [fd, nstype]);
  }

  sethostname(name: string): void {
    this.#record('sethostname', [name]);
  }

  setdomainname(name: string): void {
    this.#record('setdomainname', [name]);
  }

  setgroups(gids: number[]): void {
    this.#record('setgroups', [[...gids]]);
  }

  setresgid(rgid: number, egid: number, sgid: number): void {
    this.#record('setresgid', [rgid, egid, sgid]);
  }

  setresuid(ruid: number, euid: number, suid: number): void {
    this.#record('setresuid', [ruid, euid, suid]);
  }

  capget(): CapabilitySets {
    this.#record('capget', []);
    return { ...this.caps };
  }

  capset(sets: CapabilitySets): void {
    this.#record('capset', [{ ...sets }]);
    this.caps = { ...sets };
  }

  prctl(
    option: number,
    arg2: number | bigint = 0,
    arg3: number | bigint = 0,
    arg4: number | bigint = 0,
    arg5: number | bigint = 0,
  ): number {
    this.#record('prctl', [option, arg2, arg3, arg4, arg5]);
    switch (option) {
      case PR_CAPBSET_READ:
        return this.droppedFromBoundingSet.has(Number(arg2)) ? 0 : 1;
      case PR_CAPBSET_DROP:
        this.droppedFromBoundingSet.add(Number(arg2));
        return 0;
      case PR_GET_DUMPABLE:
        return this.#dumpable;
      case PR_SET_DUMPABLE:
        this.#dumpable = Number(arg2);
        return 0;
      case PR_GET_NO_NEW_PRIVS:
        return this.#noNewPrivs;
      case PR_SET_NO_NEW_PRIVS:
        this.#noNewPrivs = Number(arg2);
        return 0;
      default:
        return 0;
    }
  }

  schedSetattr(attr: SchedAttr): void {
    this.#record('schedSetattr', [attr]);
  }

  ioprioSet(ioprio: number): void {
    this.#record('ioprioSet', [ioprio]);
  }

  #cpus = [0];

  schedSetaffinity(cpus: readonly number[]): void {
    this.#record('schedSetaffinity', [[...cpus]]);
    this.#cpus = [...cpus];
  }

  schedGetaffinity(): number[] {
    this.#record('schedGetaffinity', []);
    return [...this.#cpus];
  }

  setMempolicy(mode: number, nodes: readonly number[]): void {
    this.#record('setMempolicy', [mode, [...nodes]]);
  }

  setrlimit(resource: number, soft: bigint, hard: bigint): void {
    this.#record('setrlimit', [resource, soft, hard]);
  }

  flock(fd: number, operation: number): void {
    this.#record('flock', [fd, operation]);
  }

  fcntl(fd: number, cmd: number, arg: number): number {
    this.#record('fcntl', [fd, cmd, arg]);
    if (cmd === F_GETFD) return this.#fdFlags.get(fd) ?? 0;
    if (cmd === F_SETFD) this.#fdFlags.set(fd, arg);
    return 0;
  }

  closeRange(first: number, last: number, flags: number): void {
    this.#record('closeRange', [first, last, flags]);
  }

  dup2(oldfd: number, newfd: number): void {
    this.#record('dup2', [oldfd, newfd]);
  }

  fstatfs(fd: number): { type: number } {
    this.#record('fstatfs', [fd]);
    return { type: this.filesystemOf(fd) };
  }

  execve(path: string, argv: string[], envp: string[]): never {
    this.#record('execve', [path, [...argv], [...envp]]);
    throw new ExecveCalled(path, argv, envp);
  }

  pidfdOpen(pid: number): number {
    this.#record('pidfdOpen', [pid]);
    return this.#nextPidfd++;
  }

  pidfdSendSignal(pidfd: number, signal: number): void {
    this.#record('pidfdSendSignal', [pidfd, signal]);
  }

  waitPidfd(pidfd: number, nohang: boolean): { code: number | null; signal: number | null } | undefined {
    this.#record('waitPidfd', [pidfd, nohang]);
    return { code: 0, signal: null };
  }

  joinSessionKeyring(name: string): number {
    this.#record('joinSessionKeyring', [name]);
    return 0x1234;
  }

  describeKey(serial: number): string {
    this.#record('describeKey', [serial]);
    return `keyring;0;0;3f010000;_ses.recorded`;
  }

  setKeyPermissions(serial: number, permissions: number): void {
    this.#record('setKeyPermissions', [serial, permissions]);
  }

  getpid(): number {
    this.#record('getpid', []);
    return this.pid;
  }

  /** What exportSeccomp answers: one RET ALLOW instruction, and lastSyscalls as set. */
  seccompLastSyscalls: SeccompArchLast[] = [];

  exportSeccomp(filter: SeccompFilter): SeccompExport {
    this.#record('exportSeccomp', [filter]);
    // BPF_RET|BPF_K, SECCOMP_RET_ALLOW.
    const program = Buffer.from([0x06, 0, 0, 0, 0, 0, 0xff, 0x7f]);
    return { program, skipped: [], lastSyscalls: filter.enosysNames ? this.seccompLastSyscalls : [] };
  }

  loadSeccomp(program: Buffer, flags: number): number {
    this.#record('loadSeccomp', [program, flags]);
    return flags & SECCOMP_FILTER_FLAG_NEW_LISTENER ? this.#nextPidfd++ : -1;
  }

  /** Flag bits the recorded kernel refuses. */
  seccompRefusedFlags = 0;

  seccompFlagsSupported(flags: number): boolean {
    this.#record('seccompFlagsSupported', [flags]);
    return (flags & this.seccompRefusedFlags) === 0;
  }

  recvFd(socket: number): { fd: number; payload: Buffer } {
    this.#record('recvFd', [socket]);
    return { fd: this.#nextPidfd++, payload: Buffer.alloc(0) };
  }

  socketpair(): [number, number] {
    this.#record('socketpair', []);
    return [this.#nextPidfd++, this.#nextPidfd++];
  }

  /**
   * What the kernel answers a netlink request (the datagrams netlinkRecv
   * then returns, in order): by default an acknowledgement (NLMSG_ERROR
   * with error 0) of the request's sequence number.
   */
  netlinkAnswer: (request: Buffer) => Buffer[] = (request) => [netlinkAck(request, 0)];
  readonly #netlinkReplies: Buffer[] = [];

  netlinkSocket(protocol: number): number {
    this.#record('netlinkSocket', [protocol]);
    // A real descriptor (of /dev/null), so that close works on it as on a socket.
    return openSync('/dev/null', 'r');
  }

  netlinkSend(fd: number, message: Buffer): void {
    this.#record('netlinkSend', [fd, Buffer.from(message)]);
    this.#netlinkReplies.push(...this.netlinkAnswer(message));
  }

  netlinkRecv(fd: number, size: number): Buffer {
    this.#record('netlinkRecv', [fd, size]);
    const reply = this.#netlinkReplies.shift();
    if (!reply) throw new SysError('recv', 11, String(fd), 'Resource temporarily unavailable (no answer queued)');
    return reply.subarray(0, size);
  }

  ioctl(fd: number, request: number, arg: number | Buffer): number {
    this.#record('ioctl', [fd, request, arg]);
    return 0;
  }

  setsid(): number {
    this.#record('setsid', []);
    return this.pid;
  }

  personality(persona: number): void {
    this.#record('personality', [persona]);
  }

  spawnDetached(path: string, argv: string[], envp: string[], opts: { fds: [number, number][]; setsid: boolean }): number {
    this.#record('spawnDetached', [path, argv, envp, opts]);
    return this.pid + 1;
  }

  memfdCreate(name: string, flags: number): number {
    this.#record('memfdCreate', [name, flags]);
    return this.#nextPidfd++;
  }

  exitNow(status: number): never {
    this.#record('exitNow', [status]);
    throw new Error(`_exit(${status}) in the recording double`);
  }

  connectUnix(path: string, datagram = false): number {
    this.#record('connectUnix', datagram ? [path, datagram] : [path]);
    return this.#nextPidfd++;
  }

  bindUnixDatagram(path: string): number {
    this.#record('bindUnixDatagram', [path]);
    return this.#nextPidfd++;
  }

  pipe(): [number, number] {
    this.#record('pipe', []);
    return [this.#nextPidfd++, this.#nextPidfd++];
  }

  sendFds(socket: number, payload: Buffer, fds: number[]): void {
    this.#record('sendFds', [socket, payload.toString(), fds]);
  }

  eventfd(initval: number, flags: number): number {
    this.#record('eventfd', [initval, flags]);
    return this.#nextPidfd++;
  }

  bpfProgLoad(progType: number, insns: Buffer, license: string): number {
    this.#record('bpfProgLoad', [progType, Buffer.from(insns), license]);
    return this.#nextPidfd++;
  }

  bpfProgAttach(targetFd: number, progFd: number, attachType: number, flags: number): void {
    this.#record('bpfProgAttach', [targetFd, progFd, attachType, flags]);
  }

  /** Where the init's path is here (see the top of this file). */
  #onHost(path: string): string {
    if (path === '/proc/self/fd' || path.startsWith('/proc/self/fd/')) return path;
    if (path.startsWith('/')) return this.#underRoot('/', path);
    // From a cwd inside the root, ".." stops at the root as well; from one outside it (the old root, after pivot_root) it does not.
    const cwdInRoot = relative(this.#root, this.#hostCwd);
    return cwdInRoot === '..' || cwdInRoot.startsWith('../')
      ? resolve(this.#hostCwd, path)
      : this.#underRoot(`/${cwdInRoot}`, path);
  }

  /** path from `from` (both as the root sees them), on the host: resolved first, so that ".." cannot climb above the root. */
  #underRoot(from: string, path: string): string {
    return join(this.#root, resolve(from, path));
  }

  /** st, unless it is a stand-in made by mknod: then the node asked for. */
  #asNode(st: FileStat): FileStat {
    // A regular file still: a stand-in removed behind the double's back may leave its inode number to anything.
    const node = fileType(st) === S_IFREG ? this.#nodes.get(fileKey(st)) : undefined;
    return node ? { ...st, ...node } : st;
  }

  /** Records the call, then throws if a failOn rule matches it. */
  #record(call: keyof Sys, raw: unknown[]): void {
    const args = raw.map((a) => (typeof a === 'string' ? fdPathNamed(a) : a));
    this.calls.push(args.some((a, i) => a !== raw[i]) ? { call, args, raw } : { call, args });
    const failure = this.#failures.find((f) => f.call === call && f.when(args));
    if (!failure) return;
    // libuv's text ("operation not permitted"): the double needs no libc.
    const text = strerror(failure.errno);
    const detail = args.filter((a) => typeof a === 'string').join(' ');
    throw new SysError(cName(call), failure.errno, detail, text);
  }
}
