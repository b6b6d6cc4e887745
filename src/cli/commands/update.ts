import { readFileSync } from 'node:fs';
import { RuntsError, errorMessage } from '../../errors';
import { type GlobalArgs, store } from '../global';
import { log } from '../../log';
import { camel, UPDATE_OBSOLETE_OPTIONS, UPDATE_REFUSED_OPTIONS, UPDATE_RESOURCE_OPTIONS } from '../options';
import { parseBytes } from '../units';

type UpdateArgs = GlobalArgs & { containerId: string; resources?: string } & Record<string, unknown>;

type Reader = (flag: string, text: string) => number | string;

const integer =
  (signed: boolean): Reader =>
  (flag, text) => {
    if (!(signed ? /^-?\d+$/ : /^\d+$/).test(text))
      throw new RuntsError(`--${flag}: ${JSON.stringify(text)} is not ${signed ? 'an integer' : 'a non-negative integer'}`);
    return Number(text);
  };
const bytes: Reader = (flag, text) => (text === '-1' ? -1 : parseBytes(`--${flag}`, text));
const text: Reader = (_flag, value) => value;

type Target = { group: 'blockIO' | 'cpu' | 'memory' | 'pids'; key: string; read: Reader };

/** runc's resource flags (the option table's UPDATE_RESOURCE_OPTIONS): the linux.resources member each sets, and how its value reads. */
const TARGETS: Readonly<Record<keyof typeof UPDATE_RESOURCE_OPTIONS, Target>> = {
  'blkio-weight': { group: 'blockIO', key: 'weight', read: integer(false) },
  'cpu-period': { group: 'cpu', key: 'period', read: integer(false) },
  'cpu-quota': { group: 'cpu', key: 'quota', read: integer(true) },
  'cpu-burst': { group: 'cpu', key: 'burst', read: integer(false) },
  'cpu-share': { group: 'cpu', key: 'shares', read: integer(false) },
  'cpu-rt-period': { group: 'cpu', key: 'realtimePeriod', read: integer(false) },
  'cpu-rt-runtime': { group: 'cpu', key: 'realtimeRuntime', read: integer(true) },
  'cpu-idle': { group: 'cpu', key: 'idle', read: integer(true) },
  'cpuset-cpus': { group: 'cpu', key: 'cpus', read: text },
  'cpuset-mems': { group: 'cpu', key: 'mems', read: text },
  memory: { group: 'memory', key: 'limit', read: bytes },
  'memory-reservation': { group: 'memory', key: 'reservation', read: bytes },
  'memory-swap': { group: 'memory', key: 'swap', read: bytes },
  'pids-limit': { group: 'pids', key: 'limit', read: integer(true) },
};

/** The flags as a linux.resources document; as with runc, 0 for --blkio-weight and --pids-limit changes nothing. */
function resourcesFromFlags(argv: UpdateArgs): Record<string, Record<string, unknown>> {
  for (const flag of Object.keys(UPDATE_REFUSED_OPTIONS))
    if (argv[camel(flag)] !== undefined) throw new RuntsError(`--${flag}: Intel RDT is not supported by runts`);
  for (const flag of Object.keys(UPDATE_OBSOLETE_OPTIONS))
    if (argv[camel(flag)] !== undefined) log.warn(`--${flag} is ignored: kernel memory limits are obsolete`);
  const doc: Record<string, Record<string, unknown>> = {};
  for (const [flag, { group, key, read }] of Object.entries(TARGETS)) {
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

export async function update(argv: UpdateArgs): Promise<void> {
  const { updateContainer } = await import('../../container/update');
  if (argv.resources !== undefined)
    await updateContainer(store(argv), argv.containerId, readResources(argv.resources), `--resources ${argv.resources}`);
  else await updateContainer(store(argv), argv.containerId, resourcesFromFlags(argv), 'update');
}
