import { joinStdinValues } from './stdin-values';
import { separateTrailingArgs } from './trailing-args';

/**
 * What both parsers read: "--" put after the id of exec and ps, then
 * "--resources -" joined (before the "--" only: the words after it are the
 * command's own, as typed).
 */
export const normalizeArgv = (argv: readonly string[]): string[] => joinStdinValues(separateTrailingArgs(argv));
