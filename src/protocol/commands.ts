import type { ClientError, CommandSpec } from './types.js';

/**
 * The command table, one declarative row per command: arity and framing are checked from here before any
 * handler runs (docs/protocol.md 5.0), and the server reads `mutating`/`blocking` from it.
 */
let specs = 0;
/** The next row of the table; COMMANDS lists them in this order. */
function spec(name: string, minArgs: number, maxArgs: number, blockError: ClientError | null, mutating: boolean, blocking: boolean): CommandSpec {
  return Object.freeze({ name, index: specs++, minArgs, maxArgs, block: blockError !== null, blockError, mutating, blocking });
}

export const ADD = spec('add', 6, 6, 'invalid-payload-size', true, false);
export const SCHEDULE = spec('schedule', 7, 7, 'invalid-payload-size', true, false);
export const RUN = spec('run', 6, 6, 'invalid-payload-size', true, true);
export const RESULT = spec('result', 3, 3, null, false, true);
export const LEASE = spec('lease', 3, Infinity, null, true, true);
export const COMPLETE = spec('complete', 3, 3, 'invalid-payload-size', true, false);
export const FAIL = spec('fail', 3, 3, 'invalid-result-size', true, false);
export const DELETE = spec('delete', 2, 2, null, true, false);
/** The exact arity of each inspect object is decided in decode (docs/protocol.md 6). */
export const INSPECT = spec('inspect', 2, Infinity, null, false, false);
/** This server's extension: `auth <secret>` (docs/protocol.md 12.5). */
export const AUTH = spec('auth', 2, 2, null, false, false);
/** Extensions (docs/protocol-extensions.md). */
export const TOUCH = spec('touch', 2, 3, null, true, false);
export const PAUSE = spec('pause', 2, 2, null, true, false);
export const RESUME = spec('resume', 2, 2, null, true, false);
export const RETRY = spec('retry', 2, 2, null, true, false);
export const RETRY_FAILED = spec('retry-failed', 2, 2, null, true, false);

export const COMMANDS: readonly CommandSpec[] = Object.freeze([
  ADD,
  SCHEDULE,
  RUN,
  RESULT,
  LEASE,
  COMPLETE,
  FAIL,
  DELETE,
  INSPECT,
  AUTH,
  TOUCH,
  PAUSE,
  RESUME,
  RETRY,
  RETRY_FAILED,
]);

const LONGEST = 12;

/** Candidates grouped by name length, with their names as bytes, so a lookup never decodes. */
const byLength: { spec: CommandSpec; bytes: Buffer }[][] = [];
for (let n = 0; n <= LONGEST; n++) byLength.push([]);
for (const s of COMMANDS) byLength[s.name.length]!.push({ spec: s, bytes: Buffer.from(s.name, 'latin1') });

/** The command whose name is exactly `buf[start..end)`, case-sensitive; undefined if none. */
export function commandByBytes(buf: Uint8Array, start: number, end: number): CommandSpec | undefined {
  const len = end - start;
  if (len <= 0 || len > LONGEST) return undefined;
  const candidates = byLength[len]!;
  outer: for (let c = 0; c < candidates.length; c++) {
    const entry = candidates[c]!;
    const bytes = entry.bytes;
    for (let i = 0; i < len; i++) if (buf[start + i] !== bytes[i]) continue outer;
    return entry.spec;
  }
  return undefined;
}

const byName = new Map<string, CommandSpec>(COMMANDS.map((s) => [s.name, s]));

/** The command named exactly `name` (case-sensitive); undefined if none. */
export function commandByName(name: string): CommandSpec | undefined {
  return byName.get(name);
}
