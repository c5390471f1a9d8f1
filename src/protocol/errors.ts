import type { ClientError } from './types.js';
import { CLIENT_ERROR_TEXT, ERROR_WORD, SERVER_ERROR_TEXT } from './vocabulary.js';

const clientErrorLines = new Map<ClientError, Buffer>();
for (const [code, text] of Object.entries(CLIENT_ERROR_TEXT) as [ClientError, string][]) {
  clientErrorLines.set(code, Buffer.from(`-${ERROR_WORD.clientError} ${text}\r\n`, 'latin1'));
}

/** The complete reply line for a client error. The Buffer is shared: never write into it. */
export function clientErrorLine(error: ClientError): Buffer {
  return clientErrorLines.get(error)!;
}

/** A complete `-SERVER-ERROR <text>` line; for the fixed lines, built once at load. */
export function serverErrorLine(text: string): Buffer {
  return Buffer.from(`-${ERROR_WORD.serverError} ${text}\r\n`, 'latin1');
}

/** Shared reply lines; never write into them. */
export const OK_LINE = Buffer.from('+OK\r\n', 'latin1');
export const NOT_FOUND_LINE = Buffer.from(`-${ERROR_WORD.notFound}\r\n`, 'latin1');
export const TIMEOUT_LINE = Buffer.from(`-${ERROR_WORD.timeout}\r\n`, 'latin1');
export const READ_ONLY_LINE = serverErrorLine(SERVER_ERROR_TEXT.readOnly);
export const STOPPING_LINE = serverErrorLine(SERVER_ERROR_TEXT.stopping);
