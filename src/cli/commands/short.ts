/** The short commands: those of the short bundle (../short.ts). */
import type { CommandName } from '../options';
import type { Handler } from './handler';
import { deleteCommand } from './delete';
import { kill } from './kill';
import { start } from './start';
import { state } from './state';

export const SHORT_HANDLERS: Readonly<Partial<Record<CommandName, Handler>>> = {
  delete: deleteCommand,
  kill,
  start,
  state,
};
