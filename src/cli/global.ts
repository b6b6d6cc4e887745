/** The global flags' values (their table: options.ts), and what every command derives from them. */
import { StateStore } from '../state/store';
import type { LogFormat } from '../log';

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
