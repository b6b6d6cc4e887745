/** What each command of the table (../options.ts) does once its words are parsed. */
import type { CommandName } from '../options';
import type { Handler } from './handler';
import { create } from './create';
import { deleteCommand } from './delete';
import { events } from './events';
import { exec } from './exec';
import { features } from './features';
import { kill } from './kill';
import { list } from './list';
import { pause } from './pause';
import { ps } from './ps';
import { resume } from './resume';
import { run } from './run';
import { spec } from './spec';
import { start } from './start';
import { state } from './state';
import { update } from './update';
import { validate } from './validate';

export type { Handler } from './handler';

export const HANDLERS: Readonly<Record<CommandName, Handler>> = {
  create,
  delete: deleteCommand,
  events,
  exec,
  features,
  kill,
  list,
  pause,
  ps,
  resume,
  run,
  spec,
  start,
  state,
  update,
  validate,
};
