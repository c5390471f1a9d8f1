import type { ClientError } from './types.js';

/** The text after `-CLIENT-ERROR ` for every client error; capitalisation as the original (docs/protocol.md 4). */
export const CLIENT_ERROR_TEXT: Readonly<Record<ClientError, string>> = Object.freeze({
  'unknown-command': 'Unknown command',
  'invalid-command-args': 'Invalid command args',
  'invalid-command-flags': 'Invalid command flags',
  'invalid-payload-size': 'Invalid payload size',
  'invalid-result-size': 'Invalid result size',
  'invalid-id': 'Invalid ID',
  'invalid-name': 'Invalid Name',
  'invalid-ttr': 'Invalid TTR',
  'invalid-ttl': 'Invalid TTL',
  'invalid-time': 'Invalid Time',
  'invalid-priority': 'Invalid Priority',
  'invalid-max-attempts': 'Invalid Max Attempts',
  'invalid-max-fails': 'Invalid Max Fails',
  'invalid-wait-timeout': 'Invalid wait timeout',
  'invalid-cursor-offset': 'Invalid cursor offset',
  'invalid-limit': 'Invalid limit',
  'duplicate-job': 'Duplicate job',
  'duplicate-result': 'Duplicate result',
  'authentication-required': 'Authentication required',
  'invalid-secret': 'Invalid secret',
  'job-not-leased': 'Job not leased',
  'job-not-failed': 'Job not failed',
  'invalid-retry-delay': 'Invalid Retry Delay',
  'invalid-retry-max-delay': 'Invalid Retry Max Delay',
  'invalid-retry-jitter': 'Invalid Retry Jitter',
});

const clientErrorLines = new Map<ClientError, Buffer>();
for (const [code, text] of Object.entries(CLIENT_ERROR_TEXT) as [ClientError, string][]) {
  clientErrorLines.set(code, Buffer.from(`-CLIENT-ERROR ${text}\r\n`, 'latin1'));
}

/** The complete reply line for a client error. The Buffer is shared: never write into it. */
export function clientErrorLine(error: ClientError): Buffer {
  return clientErrorLines.get(error)!;
}

export const READ_ONLY_TEXT = 'Read-only mode triggered by cmdlog circuit breaker';
/** The reply of a lease, run or result still waiting when the server stops or restarts (docs/protocol.md 12.8): ask again. */
export const STOPPING_TEXT = 'Server stopping';

/** Shared reply lines; never write into them. */
export const OK_LINE = Buffer.from('+OK\r\n', 'latin1');
export const NOT_FOUND_LINE = Buffer.from('-NOT-FOUND\r\n', 'latin1');
export const TIMEOUT_LINE = Buffer.from('-TIMEOUT\r\n', 'latin1');
export const READ_ONLY_LINE = Buffer.from(`-SERVER-ERROR ${READ_ONLY_TEXT}\r\n`, 'latin1');
export const STOPPING_LINE = Buffer.from(`-SERVER-ERROR ${STOPPING_TEXT}\r\n`, 'latin1');
