/**
 * An error that is the user's to read: the CLI prints its message as is
 * (no stack) and exits 1, like runc's fatal().
 */
export class RuntsError extends Error {
  override name = 'RuntsError';
}

/** A config.json that runts refuses; every problem names its JSON pointer. */
export class ConfigError extends RuntsError {
  constructor(
    readonly problems: Problem[],
    readonly file = 'config.json',
  ) {
    super(`${file}: ${problems.map(formatProblem).join('; ')}`);
  }
}

export interface Problem {
  /** JSON pointer (RFC 6901) of the offending value; '' is the document. */
  pointer: string;
  message: string;
}

/** A key as one JSON pointer token (RFC 6901: "~" is "~0", "/" is "~1"). */
export const escapePointer = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

export const formatProblem = (p: Problem): string => `${p.pointer || '/'}: ${p.message}`;

export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
