import type { ClientError } from './types.js';

/**
 * The words of the wire that both ends must spell alike: the queue-name rule, the error
 * words and texts, the job state names and the keys of inspect blocks. The server writes
 * them and the client (src/client) reads them, so this module imports nothing but types:
 * importing it brings no server code into a client.
 */

/** Longest job (queue) name, in bytes (docs/protocol.md 3.3). */
export const MAX_NAME_LENGTH = 255;

/** 1 for the bytes a name may hold, `A-Z a-z 0-9 _ . -`, by byte value; 0 for every other byte. */
export const NAME_BYTE = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) NAME_BYTE[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) NAME_BYTE[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) NAME_BYTE[c] = 1;
NAME_BYTE[0x5f] = 1;
NAME_BYTE[0x2e] = 1;
NAME_BYTE[0x2d] = 1;

/** A job (queue) name: 1 to 255 bytes of `A-Z a-z 0-9 _ . -` (docs/protocol.md 3.3). */
export function isValidName(text: string): boolean {
  const n = text.length;
  if (n === 0 || n > MAX_NAME_LENGTH) return false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || NAME_BYTE[c] === 0) return false;
  }
  return true;
}

/** The words after `-` of the four error replies (docs/protocol.md 4). */
export const ERROR_WORD = Object.freeze({
  clientError: 'CLIENT-ERROR',
  serverError: 'SERVER-ERROR',
  notFound: 'NOT-FOUND',
  timeout: 'TIMEOUT',
} as const);

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

/** The text after `-SERVER-ERROR ` of every server error this server sends. */
export const SERVER_ERROR_TEXT = Object.freeze({
  readOnly: 'Read-only mode triggered by cmdlog circuit breaker',
  /** A lease, run or result still waiting when the server stops or restarts (docs/protocol.md 12.8): ask again. */
  stopping: 'Server stopping',
  tooManyClients: 'Too many clients',
  idleTimeout: 'Idle timeout',
  /** A connection that has not sent a good `auth` within limits.authTimeoutMs (docs/protocol.md 12.6). */
  authTimeout: 'Authentication timeout',
  /** A command that would create a queue past limits.maxQueues (docs/protocol.md 12.6). */
  tooManyQueues: 'Too many queues',
  /** add, schedule or run past the instance's memory budget (docs/protocol.md 12.9). */
  memoryFull: 'Memory budget exhausted',
} as const);

/** The names the client gives the state numbers an inspect job block shows, by number (docs/protocol.md 7.1). */
export const JOB_STATE_NAMES = ['new', 'completed', 'failed', 'pending', 'leased'] as const;
export type JobStateName = (typeof JOB_STATE_NAMES)[number];

/** Keys of an inspect job block, in the order they are written (docs/protocol.md 6.1, retry-at an extension). */
export const JOB_KEY = Object.freeze({
  name: 'name',
  ttr: 'ttr',
  ttl: 'ttl',
  payloadSize: 'payload-size',
  payload: 'payload',
  maxAttempts: 'max-attempts',
  attempts: 'attempts',
  maxFails: 'max-fails',
  fails: 'fails',
  priority: 'priority',
  state: 'state',
  created: 'created',
  time: 'time',
  retryAt: 'retry-at',
} as const);

/** Keys of an inspect queue block (docs/protocol.md 6.3; paused an extension). */
export const QUEUE_KEY = Object.freeze({ readyLen: 'ready-len', scheduledLen: 'scheduled-len', paused: 'paused' } as const);

/** The keys of an inspect server block that both ends know (docs/protocol.md 6.5); the server may add more. */
export const SERVER_KEY = Object.freeze({ activeClients: 'active-clients', evictedJobs: 'evicted-jobs', started: 'started' } as const);

/** The key of the block retry-failed answers with (docs/protocol-extensions.md). */
export const RETRIED_KEY = 'retried';
