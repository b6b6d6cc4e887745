/** The global flags, as runc has them, and what every command derives from them. */
import type { LogFormat } from '../log';
import { StateStore } from '../state/store';

export interface GlobalArgs {
  root: string;
  log?: string;
  logFormat: LogFormat;
  debug: boolean;
  systemdCgroup: boolean;
  rootless?: string;
  criu?: string;
}

export const store = (argv: GlobalArgs): StateStore => new StateStore(argv.root);

/** The global flags as yargs options: one table for yargs (main.ts) and the fast path (fast-path.ts). */
export const GLOBAL_OPTIONS = {
  root: { type: 'string', default: '/run/runts', describe: 'root directory for storage of container state' },
  log: { type: 'string', describe: 'set the log file to write runts logs to (default is stderr)' },
  'log-format': { type: 'string', choices: ['text', 'json'], default: 'text', describe: 'set the log format' },
  debug: { type: 'boolean', default: false, describe: 'enable debug logging' },
  'systemd-cgroup': { type: 'boolean', default: false, describe: 'enable systemd cgroup support (not supported: refused)' },
  rootless: { type: 'string', describe: 'ignore cgroup permission errors (true, false, auto)' },
  criu: { type: 'string', describe: 'accepted for runc compatibility; ignored' },
} as const;
