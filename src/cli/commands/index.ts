/** Every command of the CLI, in the order `runts --help` lists them. */
import type { CommandModule } from 'yargs';
import { createCommand } from './create';
import { deleteCommand } from './delete';
import { featuresCommand } from './features';
import { killCommand } from './kill';
import { listCommand } from './list';
import { runCommand } from './run';
import { specCommand } from './spec';
import { startCommand } from './start';
import { stateCommand } from './state';
import { validateCommand } from './validate';

export const commands: CommandModule<any, any>[] = [
  createCommand,
  deleteCommand,
  featuresCommand,
  killCommand,
  listCommand,
  runCommand,
  specCommand,
  startCommand,
  stateCommand,
  validateCommand,
];
