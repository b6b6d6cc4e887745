/**
 * The fast path of the command line. Every command pays node's start-up;
 * yargs would add some 25 ms more to `state` or `kill`. So the words are
 * first read here, with the option table yargs is configured from
 * (options.ts). Anything out of the ordinary (--help, --version, an unknown
 * flag, a missing argument, a bad choice, an ambiguous word) returns
 * undefined, and yargs parses the words as usual, with its messages. What
 * the fast path does parse, it parses as yargs would
 * (test/unit/options.test.ts compares them).
 */
import {
  camel,
  COMMANDS,
  type CommandName,
  findCommand,
  findOption,
  flagKey,
  GLOBAL_OPTIONS,
  isFlag,
  takesValue,
} from './options';

export interface FastParse {
  command: CommandName;
  args: Record<string, unknown>;
}

/** Parses normalized words (normalize.ts), or undefined to let yargs do it. */
export function fastParse(words: readonly string[]): FastParse | undefined {
  let command: CommandName | undefined;
  const values = new Map<string, unknown>();
  const positionals: string[] = [];
  let rest: string[] | undefined;

  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === '--') {
      rest = words.slice(i + 1);
      break;
    }
    if (!isFlag(word)) {
      if (!command) {
        command = findCommand(word);
        if (!command) return undefined;
      } else positionals.push(word);
      continue;
    }
    const eq = word.indexOf('=');
    const found = findOption(flagKey(word), command);
    if (!found) return undefined; // --help, --version, typos: yargs' business
    const [name, option] = found;
    let value: unknown;
    if (!takesValue(option)) {
      if (eq >= 0) {
        const text = word.slice(eq + 1);
        if (text !== 'true' && text !== 'false') return undefined;
        value = text === 'true';
      } else {
        if (words[i + 1] === 'true' || words[i + 1] === 'false') return undefined;
        value = true;
      }
    } else {
      const text = eq >= 0 ? word.slice(eq + 1) : words[++i];
      if (text === undefined || (eq < 0 && text.startsWith('-') && text !== '-')) return undefined;
      if (option.type === 'number') {
        if (!/^-?\d+(\.\d+)?$/.test(text)) return undefined;
        value = Number(text);
      } else value = text;
      if (option.choices && !option.choices.includes(value as string)) return undefined;
    }
    if (option.array) values.set(name, [...((values.get(name) as unknown[]) ?? []), value]);
    else if (values.has(name))
      return undefined; // yargs would make an array of it
    else values.set(name, value);
  }
  if (!command) return undefined;
  const spec = COMMANDS[command];

  const args: Record<string, unknown> = { _: [] };
  const set = (name: string, value: unknown) => {
    args[name] = value;
    args[camel(name)] = value;
  };
  let p = 0;
  for (const pos of spec.positionals) {
    if (pos.variadic) {
      set(pos.name, positionals.slice(p));
      p = positionals.length;
    } else if (p < positionals.length) set(pos.name, positionals[p++]);
    else if (pos.required) return undefined;
    else if (pos.default !== undefined) set(pos.name, pos.default);
  }
  if (p < positionals.length) return undefined; // strict mode: an unexpected word
  for (const table of [GLOBAL_OPTIONS, spec.options]) {
    for (const [name, option] of Object.entries(table)) {
      if (values.has(name)) set(name, values.get(name));
      else if (option.default !== undefined) set(name, option.default);
    }
  }
  if (rest !== undefined) args['--'] = rest;
  return { command, args };
}
