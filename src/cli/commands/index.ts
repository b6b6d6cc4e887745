/** Every command of the CLI, in the order `runts --help` lists them. */
import type { CommandModule } from 'yargs';
import { createCommand } from './create';
import { deleteCommand } from './delete';
import { eventsCommand } from './events';
import { execCommand } from './exec';
import { featuresCommand } from './features';
import { killCommand } from './kill';
import { listCommand } from './list';
import { pauseCommand } from './pause';
import { psCommand } from './ps';
import { resumeCommand } from './resume';
import { runCommand } from './run';
import { specCommand } from './spec';
import { startCommand } from './start';
import { stateCommand } from './state';
import { updateCommand } from './update';
import { validateCommand } from './validate';

export const commands: CommandModule<any, any>[] = [
  createCommand,
  deleteCommand,
  eventsCommand,
  execCommand,
  featuresCommand,
  killCommand,
  listCommand,
  pauseCommand,
  psCommand,
  resumeCommand,
  runCommand,
  specCommand,
  startCommand,
  stateCommand,
  updateCommand,
  validateCommand,
];
