/**
 * Command-line flags in Go's `flag` syntax, as the original workq-server takes them:
 * `-name value`, `-name=value`, one or two dashes; `--` or the first non-flag ends them.
 */

export type FlagKind = 'string' | 'uint' | 'bool';

export interface FlagSpec {
  kind: FlagKind;
  /** May be given several times; the values are kept in order. */
  repeatable?: boolean;
  usage: string;
  /** Shown in the usage text, e.g. `HOST:PORT`. */
  metavar?: string;
  defaultText?: string;
}

export type FlagTable = Record<string, FlagSpec>;
export type FlagValue = string | number | boolean | string[];

export interface ParsedFlags {
  values: Map<string, FlagValue>;
  /** Arguments after the flags. */
  rest: string[];
}

/** A usage error: print it with the usage text and exit with status 2. */
export interface FlagError {
  message: string;
  /** `-h` / `-help`: print the usage and exit 0. */
  help: boolean;
}

const UINT = /^[0-9]+$/;

function parseValue(name: string, spec: FlagSpec, text: string): { ok: true; value: FlagValue } | { ok: false; error: FlagError } {
  if (spec.kind === 'uint') {
    const value = Number(text);
    return UINT.test(text) && Number.isSafeInteger(value)
      ? { ok: true, value }
      : { ok: false, error: { message: `invalid value "${text}" for flag -${name}: parse error`, help: false } };
  }
  if (spec.kind === 'bool') {
    if (text === 'true' || text === '1') return { ok: true, value: true };
    if (text === 'false' || text === '0') return { ok: true, value: false };
    return { ok: false, error: { message: `invalid boolean value "${text}" for -${name}: parse error`, help: false } };
  }
  return { ok: true, value: text };
}

export function parseFlags(argv: readonly string[], table: FlagTable): { ok: true; value: ParsedFlags } | { ok: false; error: FlagError } {
  const values = new Map<string, FlagValue>();
  let index = 0;
  while (index < argv.length) {
    const arg = argv[index] as string;
    if (arg === '--') {
      index += 1;
      break;
    }
    if (arg.length < 2 || !arg.startsWith('-')) break;
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    if (body.length === 0 || body.startsWith('-') || body.startsWith('=')) {
      return { ok: false, error: { message: `bad flag syntax: ${arg}`, help: false } };
    }
    index += 1;
    const equals = body.indexOf('=');
    const name = equals === -1 ? body : body.slice(0, equals);
    const spec = table[name];
    if (spec === undefined) {
      const help = name === 'h' || name === 'help';
      return { ok: false, error: { message: help ? '' : `flag provided but not defined: -${name}`, help } };
    }
    let text: string;
    if (equals !== -1) {
      text = body.slice(equals + 1);
    } else if (spec.kind === 'bool') {
      text = 'true';
    } else if (index < argv.length) {
      text = argv[index] as string;
      index += 1;
    } else {
      return { ok: false, error: { message: `flag needs an argument: -${name}`, help: false } };
    }
    const parsed = parseValue(name, spec, text);
    if (!parsed.ok) return parsed;
    if (spec.repeatable) {
      const list = (values.get(name) as string[] | undefined) ?? [];
      values.set(name, [...list, String(parsed.value)]);
    } else {
      values.set(name, parsed.value);
    }
  }
  return { ok: true, value: { values, rest: argv.slice(index) } };
}

/** Usage lines in the style of Go's flag package. */
export function formatUsage(table: FlagTable): string {
  return Object.entries(table)
    .map(([name, spec]) => {
      const head = spec.kind === 'bool' ? `  -${name}` : `  -${name} ${spec.metavar ?? spec.kind}`;
      const tail = spec.defaultText === undefined ? '' : ` (default ${spec.defaultText})`;
      return `${head}\n    \t${spec.usage}${tail}`;
    })
    .join('\n');
}
