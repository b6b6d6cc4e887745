import { joinStdinValues } from './stdin-values';
import { separateTrailingArgs } from './trailing-args';

/** What both parsers read: "--resources -" joined, "--" put after the id of exec and ps. */
export const normalizeArgv = (argv: readonly string[]): string[] => separateTrailingArgs(joinStdinValues(argv));
