import { RuntsError } from '../../errors';
import { log } from '../../log';
import { type GlobalArgs, store } from '../global';
import { parseDuration } from '../units';

interface EventsArgs extends GlobalArgs {
  containerId: string;
  interval: string;
  stats: boolean;
}

export async function events(argv: EventsArgs): Promise<void> {
  const { containerEvents, eventJson } = await import('../../container/events');
  const intervalMs = parseDuration('--interval', argv.interval);
  if (intervalMs <= 0) throw new RuntsError('--interval: must be greater than 0');
  await containerEvents(store(argv), argv.containerId, {
    intervalMs,
    statsOnly: argv.stats,
    emit: (event) => process.stdout.write(eventJson(event) + '\n'),
    warn: log.error,
  });
}
