/**
 * Configs the official schema accepts and runts cannot run as they are:
 * `runts validate` exits 0 with a warning naming the field, and create
 * refuses with that message, or (deprecations, unknown capabilities) goes
 * on with it as a warning. Unit tests check validate, integration tests
 * create.
 */

type Mutation = (c: any) => unknown;

export interface Unsupported {
  name: string;
  mutate: Mutation;
  /** The field's JSON pointer and the problem, as printed. */
  message: string;
  create: 'refuses' | 'goes on';
}

const row = (name: string, mutate: Mutation, message: string, create: Unsupported['create'] = 'refuses'): Unsupported => ({
  name,
  mutate,
  message,
  create,
});

export const UNSUPPORTED: Unsupported[] = [
  row(
    'user namespace without mappings',
    (c) => c.linux.namespaces.push({ type: 'user' }),
    '/linux/uidMappings: a new user namespace needs its mappings',
  ),
  row(
    'uid mappings without a user namespace',
    (c) => (c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]),
    '/linux/uidMappings: needs a user namespace (linux.namespaces has none)',
  ),
  row(
    'process.scheduler: a priority for a policy that is not real-time',
    (c) => (c.process.scheduler = { policy: 'SCHED_BATCH', priority: 5 }),
    '/process/scheduler/priority: can only be given for SCHED_FIFO or SCHED_RR',
  ),
  row(
    'process.scheduler: SCHED_ISO, which Linux does not have',
    (c) => (c.process.scheduler = { policy: 'SCHED_ISO' }),
    '/process/scheduler/policy: "SCHED_ISO" is not a scheduling policy Linux has',
  ),
  row(
    'process.ioPriority: a level beyond 7',
    (c) => (c.process.ioPriority = { class: 'IOPRIO_CLASS_IDLE', priority: 8 }),
    '/process/ioPriority/priority: must be between 0 (highest) and 7 (lowest)',
  ),
  row(
    'process.execCPUAffinity: not a CPU list',
    (c) => (c.process.execCPUAffinity = { initial: '3-1' }),
    '/process/execCPUAffinity/initial: "3-1" is not a CPU list',
  ),
  row(
    'linux.memoryPolicy: no mode',
    (c) => (c.linux.memoryPolicy = { nodes: '0' }),
    '/linux/memoryPolicy/mode: invalid memory policy mode',
  ),
  ...(
    [
      ['windows', { layerFolders: ['C:\\layers\\base'] }, 'Windows container settings'],
      ['solaris', { milestone: 'svc:/milestone/container:default' }, 'Solaris zone settings'],
      ['vm', { kernel: { path: '/vmlinuz' } }, 'virtual-machine container settings (hypervisor, kernel, image)'],
      ['zos', { namespaces: [{ type: 'pid' }] }, 'z/OS container settings'],
      ['freebsd', { jail: { host: 'new' } }, 'FreeBSD jail settings'],
    ] as const
  ).map(([field, value, what]) =>
    row(field, (c) => (c[field] = value), `/${field}: ${what} are for another platform: runts runs Linux containers`),
  ),
  row(
    'process.commandLine (Windows)',
    (c) => (c.process.commandLine = 'sh -c true'),
    '/process/commandLine: is for Windows: ignored, process.args is run',
    'goes on',
  ),
  row(
    'process.user.username (Windows)',
    (c) => (c.process.user.username = 'ContainerUser'),
    '/process/user/username: is for Windows: ignored, process.user.uid and gid apply',
    'goes on',
  ),
  row(
    'memory.kernel (not recommended)',
    (c) => (c.linux.resources.memory = { kernel: 1 << 26 }),
    '/linux/resources/memory/kernel: kernel memory limits are not recommended by the spec and not set: ignored',
    'goes on',
  ),
  row(
    'memory.kernelTCP (not recommended)',
    (c) => (c.linux.resources.memory = { kernelTCP: 1 << 26 }),
    '/linux/resources/memory/kernelTCP: kernel memory limits are not recommended by the spec and not set: ignored',
    'goes on',
  ),
  row(
    'linux.personality.flags',
    (c) => (c.linux.personality = { domain: 'LINUX', flags: ['SHORT_INODE'] }),
    '/linux/personality/flags: personality flags are not supported yet',
  ),
  row('ociVersion 2', (c) => (c.ociVersion = '2.0.0'), '/ociVersion: version "2.0.0" is not supported'),
  row(
    'duplicate namespace',
    (c) => c.linux.namespaces.push({ type: 'pid' }),
    '/linux/namespaces/5/type: duplicate namespace type "pid"',
  ),
  row(
    'relative mount destination (deprecated)',
    (c) => (c.mounts[0].destination = 'proc'),
    '/mounts/0/destination: a relative destination is deprecated',
    'goes on',
  ),
  row('no root', (c) => delete c.root, '/root: is required on Linux'),
  row(
    'unknown capability',
    (c) => (c.process.capabilities.bounding[0] = 'CAP_MAGIC'),
    '/process/capabilities/bounding/0: unknown capability "CAP_MAGIC"',
    'goes on',
  ),
  row('unknown rlimit', (c) => (c.process.rlimits[0].type = 'RLIMIT_BOGUS'), '/process/rlimits/0/type: unknown rlimit'),
  row('relative cwd', (c) => (c.process.cwd = 'tmp'), '/process/cwd: must be an absolute path'),
  row(
    'relative hook path',
    (c) => (c.hooks = { poststop: [{ path: 'bin/true' }] }),
    '/hooks/poststop/0/path: must be an absolute path',
  ),
];
