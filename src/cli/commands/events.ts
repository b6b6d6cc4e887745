import type { CommandModule } from 'yargs';
import { RuntsError } from '../../errors';
import { log } from '../../log';
import { type GlobalArgs, store } from '../global';
import { parseDuration } from '../units';

interface EventsArgs extends GlobalArgs {
  containerId: string;
  interval: string;
  stats: boolean;
}

export const eventsCommand: CommandModule<GlobalArgs, EventsArgs> = {
  command: 'events <container-id>',
  describe: 'display container events such as OOM notifications, cpu, memory, and IO usage statistics',
  builder: (y) =>
    y
      .positional('container-id', { type: 'string', demandOption: true })
      .option('interval', { type: 'string', default: '5s', describe: 'set the stats collection interval' })
      .option('stats', { type: 'boolean', default: false, describe: 'display the container\'s stats then exit' }) as never,
  handler: async (argv) => {
    const { containerEvents, eventJson } = await import('../../container/events');
    const intervalMs = parseDuration('--interval', argv.interval);
    if (intervalMs <= 0) throw new RuntsError('--interval: must be greater than 0');
    await containerEvents(store(argv), argv.containerId, {
      intervalMs,
      statsOnly: argv.stats,
      emit: (event) => process.stdout.write(eventJson(event) + '\n'),
      warn: log.error,
    });
  },
};
