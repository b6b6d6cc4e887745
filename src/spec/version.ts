/** The runtime-spec version runts implements and writes into new configs. */
export const SPEC_VERSION = '1.2.0';
/** Oldest config version runts accepts (any 1.x, see checks.ts). */
export const SPEC_VERSION_MIN = '1.0.0';
