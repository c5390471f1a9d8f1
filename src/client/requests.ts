import { CLIENT_ERROR_TEXT, isValidName } from '../protocol/vocabulary.js';
import { ClientError } from './errors.js';
import type { Payload } from './types.js';

/**
 * Command bytes (docs/protocol.md 5). Numbers are written with String(), which never yields a
 * space or a line end, so the server judges their ranges. Strings are checked here,
 * because a space or line end in them would change the framing: a name with `\r\n` in
 * it would smuggle a second command onto the connection.
 */

const CRLF = Buffer.from('\r\n', 'latin1');

export type Encoded = Buffer[] | ClientError;

export interface JobFlags {
  priority?: number | undefined;
  maxAttempts?: number | undefined;
  maxFails?: number | undefined;
  retryDelayMs?: number | undefined;
  retryMaxDelayMs?: number | undefined;
  retryJitterPercent?: number | undefined;
}

export function toBuffer(data: Payload | undefined): Buffer {
  if (data === undefined) return Buffer.alloc(0);
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** Printable ASCII without spaces and not a flag: safe to put on a command line as one argument. */
function token(text: string): boolean {
  if (text.length === 0 || (text[0] === '-' && text.includes('='))) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

// Refused before sending, with the server's own error, as if the server had answered.
const invalidId = (): ClientError => new ClientError(CLIENT_ERROR_TEXT['invalid-id']);
const invalidName = (): ClientError => new ClientError(CLIENT_ERROR_TEXT['invalid-name']);
const invalidTime = (): ClientError => new ClientError(CLIENT_ERROR_TEXT['invalid-time']);

function line(text: string): Buffer {
  return Buffer.from(text + '\r\n', 'latin1');
}

function flags(f: JobFlags): string {
  let out = '';
  if (f.priority !== undefined) out += ` -priority=${f.priority}`;
  if (f.maxAttempts !== undefined) out += ` -max-attempts=${f.maxAttempts}`;
  if (f.maxFails !== undefined) out += ` -max-fails=${f.maxFails}`;
  if (f.retryDelayMs !== undefined) out += ` -retry-delay=${f.retryDelayMs}`;
  if (f.retryMaxDelayMs !== undefined) out += ` -retry-max-delay=${f.retryMaxDelayMs}`;
  if (f.retryJitterPercent !== undefined) out += ` -retry-jitter=${f.retryJitterPercent}`;
  return out;
}

function withBlock(head: string, block: Buffer): Buffer[] {
  return [Buffer.from(head, 'latin1'), block, CRLF];
}

export function addCommand(id: string, name: string, ttrMs: number, ttlMs: number, payload: Buffer, f: JobFlags): Encoded {
  if (!token(id)) return invalidId();
  if (!isValidName(name)) return invalidName();
  return withBlock(`add ${id} ${name} ${ttrMs} ${ttlMs} ${payload.length}${flags(f)}\r\n`, payload);
}

export function scheduleCommand(id: string, name: string, ttrMs: number, ttlMs: number, time: string, payload: Buffer, f: JobFlags): Encoded {
  if (!token(id)) return invalidId();
  if (!isValidName(name)) return invalidName();
  if (!token(time)) return invalidTime();
  return withBlock(`schedule ${id} ${name} ${ttrMs} ${ttlMs} ${time} ${payload.length}${flags(f)}\r\n`, payload);
}

export function runCommand(id: string, name: string, ttrMs: number, timeoutMs: number, payload: Buffer, priority?: number): Encoded {
  if (!token(id)) return invalidId();
  if (!isValidName(name)) return invalidName();
  return withBlock(`run ${id} ${name} ${ttrMs} ${timeoutMs} ${payload.length}${flags({ priority })}\r\n`, payload);
}

export function resultCommand(id: string, timeoutMs: number): Encoded {
  return token(id) ? [line(`result ${id} ${timeoutMs}`)] : invalidId();
}

export function leaseCommand(names: readonly string[], timeoutMs: number): Encoded {
  if (names.length === 0 || !names.every(isValidName)) return invalidName();
  return [line(`lease ${names.join(' ')} ${timeoutMs}`)];
}

export function finishCommand(verb: 'complete' | 'fail', id: string, result: Buffer): Encoded {
  if (!token(id)) return invalidId();
  return withBlock(`${verb} ${id} ${result.length}\r\n`, result);
}

export function deleteCommand(id: string): Encoded {
  return token(id) ? [line(`delete ${id}`)] : invalidId();
}

export function touchCommand(id: string, ttrMs: number | undefined): Encoded {
  if (!token(id)) return invalidId();
  return [line(ttrMs === undefined ? `touch ${id}` : `touch ${id} ${ttrMs}`)];
}

export function pauseCommand(verb: 'pause' | 'resume', name: string): Encoded {
  return isValidName(name) ? [line(`${verb} ${name}`)] : invalidName();
}

export function retryCommand(id: string): Encoded {
  return token(id) ? [line(`retry ${id}`)] : invalidId();
}

export function retryFailedCommand(name: string): Encoded {
  return isValidName(name) ? [line(`retry-failed ${name}`)] : invalidName();
}

export function inspectJobCommand(id: string): Encoded {
  return token(id) ? [line(`inspect job ${id}`)] : invalidId();
}

export type ListObject = 'jobs' | 'scheduled-jobs' | 'leased-jobs' | 'completed-jobs' | 'failed-jobs';

export function inspectListCommand(what: ListObject, name: string, offset: number, limit: number): Encoded {
  return isValidName(name) ? [line(`inspect ${what} ${name} ${offset} ${limit}`)] : invalidName();
}

export function inspectQueueCommand(name: string): Encoded {
  return isValidName(name) ? [line(`inspect queue ${name}`)] : invalidName();
}

export function inspectQueuesCommand(offset: number, limit: number): Encoded {
  return [line(`inspect queues ${offset} ${limit}`)];
}

export function inspectServerCommand(): Encoded {
  return [line('inspect server')];
}

/** A Date as the schedule time syntax (docs/protocol.md 3.4); milliseconds are kept as a fraction. */
export function wireTime(time: Date | string): string {
  return typeof time === 'string' ? time : time.toISOString();
}
