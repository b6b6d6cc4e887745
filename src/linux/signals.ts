/** Signal names and numbers (x86_64/arm64 generic), one table. */
export const SIGNALS = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGIOT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPOLL: 29,
  SIGPWR: 30,
  SIGSYS: 31,
} as const;

const BY_NAME: ReadonlyMap<string, number> = new Map(Object.entries(SIGNALS));

/** The number of a signal's full name ("SIGTERM"); undefined for a name the table lacks. */
export const signalNumber = (name: string): number | undefined => BY_NAME.get(name);

const BY_NUMBER: ReadonlyMap<number, string> = new Map([...Object.entries(SIGNALS)].reverse().map(([name, n]) => [n, name]));

/** The name of a signal's number (the first the table gives it: SIGABRT, not SIGIOT); undefined for one it lacks. */
export const signalName = (n: number): NodeJS.Signals | undefined => BY_NUMBER.get(n) as NodeJS.Signals | undefined;

const SIGRTMIN = 34;
const SIGRTMAX = 64;

/**
 * Parses a signal as runc's kill does: a number, a name with or without
 * "SIG" (any case), or RTMIN+n / RTMAX-n. Returns undefined when unknown.
 */
export function parseSignal(text: string): number | undefined {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n >= 1 && n <= SIGRTMAX ? n : undefined;
  }
  let name = text.toUpperCase();
  if (!name.startsWith('SIG')) name = `SIG${name}`;
  const named = signalNumber(name);
  if (named !== undefined) return named;
  const rt = /^SIGRT(MIN|MAX)(?:([+-])(\d+))?$/.exec(name);
  if (!rt) return undefined;
  const offset = rt[3] ? Number(rt[3]) * (rt[2] === '-' ? -1 : 1) : 0;
  const n = (rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX) + offset;
  return n >= SIGRTMIN && n <= SIGRTMAX ? n : undefined;
}
