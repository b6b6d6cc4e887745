/**
 * The fast path of the command line. Every command pays node's start-up;
 * yargs would add some 25 ms more to `state` or `kill`. So the words are
 * first read here, against the very same option tables (each command's
 * yargs builder, run against a recorder, and GLOBAL_OPTIONS). Anything out
 * of the ordinary (--help, --version, an unknown flag, a missing argument,
 * a bad choice, an ambiguous word) returns undefined, and yargs parses the
 * words as usual, with its messages. What the fast path does parse, it
 * parses as yargs would (test/unit/fast-path.test.ts compares them).
 */
import type { CommandModule } from 'yargs';
import { GLOBAL_OPTIONS } from './global';

interface OptionMeta {
  type?: string;
  array?: boolean;
  alias?: string | readonly string[];
  default?: unknown;
  choices?: readonly unknown[];
  demandOption?: boolean | string;
}

interface Positional {
  name: string;
  required: boolean;
  variadic: boolean;
  meta: OptionMeta;
}

interface CommandMeta {
  module: CommandModule<any, any>;
  positionals: Positional[];
  options: Map<string, OptionMeta>;
}

const camel = (name: string) => name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
const aliasesOf = (meta: OptionMeta): readonly string[] => (meta.alias === undefined ? [] : typeof meta.alias === 'string' ? [meta.alias] : meta.alias);

/** The command's positionals and options, from its command string and builder. */
function describe(module: CommandModule<any, any>): CommandMeta {
  const words = String(module.command).split(' ').slice(1);
  const positionalMeta = new Map<string, OptionMeta>();
  const options = new Map<string, OptionMeta>();
  const recorder = {
    positional: (name: string, meta: OptionMeta) => (positionalMeta.set(name, meta), recorder),
    option: (name: string, meta: OptionMeta) => (options.set(name, meta), recorder),
  };
  if (typeof module.builder === 'function') (module.builder as (y: unknown) => unknown)(recorder);
  const positionals = words.map((word) => {
    const name = word.replace(/^[<[]|[\]>]$/g, '').replace(/\.\.$/, '');
    return { name, required: word.startsWith('<'), variadic: word.endsWith('..]') || word.endsWith('..>'), meta: positionalMeta.get(name) ?? {} };
  });
  return { module, positionals, options };
}

const metaCache = new Map<CommandModule<any, any>, CommandMeta>();

function findCommand(name: string, commands: readonly CommandModule<any, any>[]): CommandMeta | undefined {
  const module = commands.find((c) => String(c.command).split(' ')[0] === name || [c.aliases ?? []].flat().includes(name));
  if (!module) return undefined;
  if (!metaCache.has(module)) metaCache.set(module, describe(module));
  return metaCache.get(module);
}

export interface FastParse {
  command: CommandModule<any, any>;
  args: Record<string, unknown>;
}

/** Parses normalized words (main.ts normalizeArgv), or undefined to let yargs do it. */
export function fastParse(words: readonly string[], commands: readonly CommandModule<any, any>[]): FastParse | undefined {
  const globals = new Map(Object.entries(GLOBAL_OPTIONS) as [string, OptionMeta][]);
  let command: CommandMeta | undefined;
  const values = new Map<string, unknown>();
  const positionals: string[] = [];
  let rest: string[] | undefined;

  const lookup = (key: string): [string, OptionMeta] | undefined => {
    for (const table of command ? [command.options, globals] : [globals]) {
      for (const [name, meta] of table) if (name === key || aliasesOf(meta).includes(key)) return [name, meta];
    }
    return undefined;
  };

  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word === '--') {
      rest = words.slice(i + 1);
      break;
    }
    if (!word.startsWith('-') || word === '-' || /^-\d/.test(word)) {
      if (!command) {
        command = findCommand(word, commands);
        if (!command) return undefined;
      } else positionals.push(word);
      continue;
    }
    const eq = word.indexOf('=');
    const key = word.slice(word.startsWith('--') ? 2 : 1, eq < 0 ? undefined : eq);
    const found = lookup(key);
    if (!found) return undefined; // --help, --version, typos: yargs' business
    const [name, meta] = found;
    let value: unknown;
    if (meta.type === 'boolean') {
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
      if (meta.type === 'number') {
        if (!/^-?\d+(\.\d+)?$/.test(text)) return undefined;
        value = Number(text);
      } else value = text;
      if (meta.choices && !meta.choices.includes(value)) return undefined;
    }
    if (meta.array) values.set(name, [...((values.get(name) as unknown[]) ?? []), value]);
    else if (values.has(name)) return undefined; // yargs would make an array of it
    else values.set(name, value);
  }
  if (!command) return undefined;

  const args: Record<string, unknown> = { _: [] };
  const set = (name: string, value: unknown) => {
    args[name] = value;
    args[camel(name)] = value;
  };
  let p = 0;
  for (const pos of command.positionals) {
    if (pos.variadic) {
      set(pos.name, positionals.slice(p));
      p = positionals.length;
    } else if (p < positionals.length) set(pos.name, positionals[p++]);
    else if (pos.required) return undefined;
    else if (pos.meta.default !== undefined) set(pos.name, pos.meta.default);
  }
  if (p < positionals.length) return undefined; // strict mode: an unexpected word
  for (const table of [globals, command.options]) {
    for (const [name, meta] of table) {
      if (values.has(name)) set(name, values.get(name));
      else if (meta.demandOption) return undefined;
      else if (meta.default !== undefined) set(name, meta.default);
    }
  }
  if (rest !== undefined) args['--'] = rest;
  return { command: command.module, args };
}
