import { readFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { RuntsError, errorMessage } from '../../errors';
import { log } from '../../log';
import { type GlobalArgs, store } from '../global';
import { parseBytes } from '../units';

type UpdateArgs = GlobalArgs & { containerId: string; resources?: string } & Record<string, unknown>;

type Reader = (flag: string, text: string) => number | string;

const integer = (signed: boolean): Reader => (flag, text) => {
  if (!(signed ? /^-?\d+$/ : /^\d+$/).test(text)) throw new RuntsError(`--${flag}: ${JSON.stringify(text)} is not ${signed ? 'an integer' : 'a non-negative integer'}`);
  return Number(text);
};
const bytes: Reader = (flag, text) => (text === '-1' ? -1 : parseBytes(`--${flag}`, text));
const text: Reader = (_flag, value) => value;

/** runc's flags: the linux.resources member each sets, and how its value reads. */
const FLAGS: readonly { flag: string; group: 'blockIO' | 'cpu' | 'memory' | 'pids'; key: string; read: Reader; describe: string }[] = [
  { flag: 'blkio-weight', group: 'blockIO', key: 'weight', read: integer(false), describe: 'Specifies per cgroup weight, range is from 10 to 1000' },
  { flag: 'cpu-period', group: 'cpu', key: 'period', read: integer(false), describe: 'CPU CFS period to be used for hardcapping (in usecs). 0 to use system default' },
  { flag: 'cpu-quota', group: 'cpu', key: 'quota', read: integer(true), describe: 'CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period' },
  { flag: 'cpu-burst', group: 'cpu', key: 'burst', read: integer(false), describe: 'CPU CFS hardcap burst limit (in usecs). Allowed accumulated cpu time additionally for burst a given period' },
  { flag: 'cpu-share', group: 'cpu', key: 'shares', read: integer(false), describe: 'CPU shares (relative weight vs. other containers)' },
  { flag: 'cpu-rt-period', group: 'cpu', key: 'realtimePeriod', read: integer(false), describe: 'CPU realtime period to be used for hardcapping (in usecs). 0 to use system default' },
  { flag: 'cpu-rt-runtime', group: 'cpu', key: 'realtimeRuntime', read: integer(true), describe: 'CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period' },
  { flag: 'cpu-idle', group: 'cpu', key: 'idle', read: integer(true), describe: 'set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE' },
  { flag: 'cpuset-cpus', group: 'cpu', key: 'cpus', read: text, describe: 'CPU(s) to use' },
  { flag: 'cpuset-mems', group: 'cpu', key: 'mems', read: text, describe: 'Memory node(s) to use' },
  { flag: 'memory', group: 'memory', key: 'limit', read: bytes, describe: 'Memory limit (in bytes)' },
  { flag: 'memory-reservation', group: 'memory', key: 'reservation', read: bytes, describe: 'Memory reservation or soft_limit (in bytes)' },
  { flag: 'memory-swap', group: 'memory', key: 'swap', read: bytes, describe: 'Total memory usage (memory + swap); set \'-1\' to enable unlimited swap' },
  { flag: 'pids-limit', group: 'pids', key: 'limit', read: integer(true), describe: 'Maximum number of pids allowed in the container' },
];

/** Accepted and ignored, as by runc (kernel memory limits are gone from the kernel). */
const OBSOLETE = ['kernel-memory', 'kernel-memory-tcp'];
/** Intel RDT, which runts does not do. */
const REFUSED = ['l3-cache-schema', 'mem-bw-schema'];

const camel = (flag: string) => flag.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

/** The flags as a linux.resources document; as with runc, 0 for --blkio-weight and --pids-limit changes nothing. */
function resourcesFromFlags(argv: UpdateArgs): Record<string, Record<string, unknown>> {
  for (const flag of REFUSED) if (argv[camel(flag)] !== undefined) throw new RuntsError(`--${flag}: Intel RDT is not supported by runts`);
  for (const flag of OBSOLETE) if (argv[camel(flag)] !== undefined) log.warn(`--${flag} is ignored: kernel memory limits are obsolete`);
  const doc: Record<string, Record<string, unknown>> = {};
  for (const { flag, group, key, read } of FLAGS) {
    const given = argv[camel(flag)];
    if (given === undefined) continue;
    const value = read(flag, String(given));
    if (value === 0 && (flag === 'blkio-weight' || flag === 'pids-limit')) continue;
    (doc[group] ??= {})[key] = value;
  }
  return doc;
}

function readResources(source: string): unknown {
  let content: string;
  try {
    content = readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch (err) {
    throw new RuntsError(`--resources ${source}: ${errorMessage(err)}`);
  }
  try {
    return JSON.parse(content);
  } catch (err) {
    throw new RuntsError(`--resources ${source}: not valid JSON: ${errorMessage(err)}`);
  }
}

export const updateCommand: CommandModule<GlobalArgs, UpdateArgs> = {
  command: 'update <container-id>',
  describe: 'update container resource constraints',
  builder: (y) => {
    let b = y
      .positional('container-id', { type: 'string', demandOption: true })
      .option('resources', {
        alias: 'r',
        type: 'string',
        describe: 'path to the file containing the resources to update (JSON, as linux.resources), or \'-\' to read from the standard input; all other options are then ignored',
      });
    for (const { flag, describe } of FLAGS) b = b.option(flag, { type: 'string', describe });
    for (const flag of OBSOLETE) b = b.option(flag, { type: 'string', hidden: true });
    for (const flag of REFUSED) b = b.option(flag, { type: 'string', describe: 'Intel RDT schema (not supported: refused)' });
    return b as never;
  },
  handler: async (argv) => {
    const { updateContainer } = await import('../../container/update');
    if (argv.resources !== undefined) await updateContainer(store(argv), argv.containerId, readResources(argv.resources), `--resources ${argv.resources}`);
    else await updateContainer(store(argv), argv.containerId, resourcesFromFlags(argv), 'update');
  },
};
