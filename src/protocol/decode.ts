import type { Frame } from './frame.js';
import type { ClientError, DecodeError, Request, RetryDelay } from './types.js';
import { isV4Id, parseI32, parseTime, parseU16At, parseU32, parseU32At, parseU64At, parseU8 } from './values.js';
import { isValidName } from './vocabulary.js';

/** Range limits of docs/protocol.md 3.5 that the validation tables check after parsing. */
export const MAX_TTR = 86_400_000;
export const MAX_TTL = 2_592_000_000;
export const MAX_WAIT_TIMEOUT = 86_400_000;
export const MAX_INSPECT_LIMIT = 100;

function fail(error: ClientError): DecodeError {
  return { kind: 'error', error };
}

function flagCount(frame: Frame): number {
  return frame.flags === null ? 0 : frame.flags.length / 2;
}

/** The value of flag `key`, or undefined when absent (keys are unique after framing). */
function flag(flags: string[] | null, key: string): string | undefined {
  if (flags === null) return undefined;
  for (let i = 0; i < flags.length; i += 2) if (flags[i] === key) return flags[i + 1];
  return undefined;
}

function u32(frame: Frame, i: number): number | null {
  return parseU32At(frame.bytes, frame.start(i), frame.end(i));
}

function waitTimeout(frame: Frame, i: number): number | null {
  const value = u32(frame, i);
  return value === null || value > MAX_WAIT_TIMEOUT ? null : value;
}

function limit(frame: Frame, i: number): number | null {
  const value = parseU16At(frame.bytes, frame.start(i), frame.end(i));
  return value === null || value < 1 || value > MAX_INSPECT_LIMIT ? null : value;
}

/** The optional add/schedule flags, checked in the tables' order: max-attempts, max-fails, priority, then the retry delay. */
interface JobFlags {
  maxAttempts: number;
  maxFails: number;
  priority: number;
  retry: RetryDelay | null;
}

const RETRY_KEYS = ['retry-delay', 'retry-max-delay', 'retry-jitter'] as const;

/**
 * Flags add and schedule accept: the original's 3, and one more for each retry key
 * present, so that a line the original refuses for its flag count is still refused.
 */
function jobFlagLimit(flags: string[] | null): number {
  let limit = 3;
  if (flags !== null && flags.length > 6) for (const key of RETRY_KEYS) if (flag(flags, key) !== undefined) limit++;
  return limit;
}

/** The retry flags (docs/protocol-extensions.md): null when none is given. */
function parseRetry(flags: string[] | null): RetryDelay | null | ClientError {
  const delayText = flag(flags, 'retry-delay');
  const maxText = flag(flags, 'retry-max-delay');
  const jitterText = flag(flags, 'retry-jitter');
  if (delayText === undefined && maxText === undefined && jitterText === undefined) return null;
  const delayMs = delayText === undefined ? 0 : parseU32(delayText);
  if (delayMs === null || delayMs > MAX_TTR) return 'invalid-retry-delay';
  const maxDelayMs = maxText === undefined ? 0 : parseU32(maxText);
  if (maxDelayMs === null || maxDelayMs > MAX_TTR) return 'invalid-retry-max-delay';
  const jitterPercent = jitterText === undefined ? 0 : parseU8(jitterText);
  if (jitterPercent === null || jitterPercent > 100) return 'invalid-retry-jitter';
  return { delayMs, maxDelayMs, jitterPercent };
}

/** What a job gets with no flags; shared, so that a plain add allocates no flag object. */
const NO_JOB_FLAGS: Readonly<JobFlags> = Object.freeze({ maxAttempts: 0, maxFails: 0, priority: 0, retry: null });

function parseJobFlags(flags: string[] | null): Readonly<JobFlags> | ClientError {
  if (flags === null) return NO_JOB_FLAGS;
  const attemptsText = flag(flags, 'max-attempts');
  const maxAttempts = attemptsText === undefined ? 0 : parseU8(attemptsText);
  if (maxAttempts === null) return 'invalid-max-attempts';
  const failsText = flag(flags, 'max-fails');
  const maxFails = failsText === undefined ? 0 : parseU8(failsText);
  if (maxFails === null) return 'invalid-max-fails';
  const priorityText = flag(flags, 'priority');
  const priority = priorityText === undefined ? 0 : parseI32(priorityText);
  if (priority === null) return 'invalid-priority';
  const retry = parseRetry(flags);
  if (typeof retry === 'string') return retry;
  return { maxAttempts, maxFails, priority, retry };
}

/**
 * `add <id> <name> <ttr> <ttl> <size>` (docs/protocol.md 5.1) and
 * `schedule <id> <name> <ttr> <ttl> <time> <size>` (5.2): one table, the time parsed
 * right after the TTL for schedule.
 */
function decodeJob(frame: Frame, scheduled: boolean): Request | DecodeError {
  if (flagCount(frame) > 3 && flagCount(frame) > jobFlagLimit(frame.flags)) return fail('invalid-command-args');
  const id = frame.jobId(1);
  if (id === null) return fail('invalid-id');
  const ttr = u32(frame, 3);
  if (ttr === null) return fail('invalid-ttr');
  const ttl = parseU64At(frame.bytes, frame.start(4), frame.end(4));
  if (ttl === null) return fail('invalid-ttl');
  const time = scheduled ? parseTime(frame.text(5)) : null;
  if (scheduled && time === null) return fail('invalid-time');
  const f = parseJobFlags(frame.flags);
  if (typeof f === 'string') return fail(f);
  if (!isV4Id(id)) return fail('invalid-id');
  const name = frame.text(2);
  if (!isValidName(name)) return fail('invalid-name');
  if (ttr < 1 || ttr > MAX_TTR) return fail('invalid-ttr');
  if (ttl < 1 || ttl > MAX_TTL) return fail('invalid-ttl');
  const payload = frame.blockView();
  const { priority, maxAttempts, maxFails, retry } = f;
  return time === null
    ? { kind: 'add', id, name, ttr, ttl, priority, maxAttempts, maxFails, payload, retry }
    : { kind: 'schedule', id, name, ttr, ttl, timeSec: time.sec, timeNsec: time.nsec, priority, maxAttempts, maxFails, payload, retry };
}

/** `run <id> <name> <ttr> <wait-timeout> <size>` (docs/protocol.md 5.3). */
function decodeRun(frame: Frame): Request | DecodeError {
  if (flagCount(frame) > 1) return fail('invalid-command-args');
  const id = frame.jobId(1);
  if (id === null) return fail('invalid-id');
  const ttr = u32(frame, 3);
  if (ttr === null) return fail('invalid-ttr');
  const priorityText = flag(frame.flags, 'priority');
  const priority = priorityText === undefined ? 0 : parseI32(priorityText);
  if (priority === null) return fail('invalid-priority');
  const timeout = waitTimeout(frame, 4);
  if (timeout === null) return fail('invalid-wait-timeout');
  if (!isV4Id(id)) return fail('invalid-id');
  const name = frame.text(2);
  if (!isValidName(name)) return fail('invalid-name');
  if (ttr < 1 || ttr > MAX_TTR) return fail('invalid-ttr');
  return { kind: 'run', id, name, ttr, timeout, priority, payload: frame.blockView() };
}

/** `result <id> <wait-timeout>` (docs/protocol.md 5.4). */
function decodeResult(frame: Frame): Request | DecodeError {
  if (frame.flags !== null) return fail('invalid-command-args');
  const id = frame.jobId(1);
  if (id === null || !isV4Id(id)) return fail('invalid-id');
  const timeout = waitTimeout(frame, 2);
  if (timeout === null) return fail('invalid-wait-timeout');
  return { kind: 'result', id, timeout };
}

/** `lease <name>... <wait-timeout>` (docs/protocol.md 5.5). */
function decodeLease(frame: Frame): Request | DecodeError {
  if (frame.flags !== null) return fail('invalid-command-args');
  const timeout = waitTimeout(frame, frame.count - 1);
  if (timeout === null) return fail('invalid-wait-timeout');
  const names = frame.texts(1, frame.count - 1);
  for (let i = 0; i < names.length; i++) if (!isValidName(names[i]!)) return fail('invalid-name');
  return { kind: 'lease', names, timeout };
}

/** `complete <id> <size>` and `fail <id> <size>` (docs/protocol.md 5.6, 5.7). */
function decodeFinish(frame: Frame, kind: 'complete' | 'fail'): Request | DecodeError {
  if (frame.flags !== null) return fail('invalid-command-args');
  const id = frame.jobId(1);
  if (id === null || !isV4Id(id)) return fail('invalid-id');
  return { kind, id, result: frame.blockText() };
}

/** `delete <id>` (docs/protocol.md 5.8): a well-formed non-v4 ID is accepted and does nothing. */
function decodeDelete(frame: Frame): Request | DecodeError {
  if (frame.flags !== null) return fail('invalid-command-args');
  const id = frame.jobId(1);
  if (id === null) return fail('invalid-id');
  return { kind: 'delete', id, valid: isV4Id(id) };
}

/** `touch <id> [<ttr>]` (docs/protocol-extensions.md). */
function decodeTouch(frame: Frame): Request | DecodeError {
  if (frame.flags !== null) return fail('invalid-command-args');
  const id = frame.jobId(1);
  if (id === null || !isV4Id(id)) return fail('invalid-id');
  if (frame.count === 2) return { kind: 'touch', id, ttr: null };
  const ttr = u32(frame, 2);
  if (ttr === null || ttr < 1 || ttr > MAX_TTR) return fail('invalid-ttr');
  return { kind: 'touch', id, ttr };
}

/** `pause <name>` and `resume <name>` (docs/protocol-extensions.md). */
function decodePause(frame: Frame, paused: boolean): Request | DecodeError {
  if (frame.flags !== null) return fail('invalid-command-args');
  const name = frame.text(1);
  return isValidName(name) ? { kind: 'pause', name, paused } : fail('invalid-name');
}

/** `retry <id>` and `retry-failed <name>` (docs/protocol-extensions.md). */
function decodeRetry(frame: Frame, all: boolean): Request | DecodeError {
  if (frame.flags !== null) return fail('invalid-command-args');
  if (all) {
    const name = frame.text(1);
    return isValidName(name) ? { kind: 'retry-failed', name } : fail('invalid-name');
  }
  const id = frame.jobId(1);
  return id === null || !isV4Id(id) ? fail('invalid-id') : { kind: 'retry', id };
}

/** `inspect <object> ...` (docs/protocol.md 6): the object first, then flags and arity, then fields. */
function decodeInspect(frame: Frame): Request | DecodeError {
  const a = frame.args;
  let arity: number;
  switch (a[1]) {
    case 'server':
      arity = 2;
      break;
    case 'job':
    case 'queue':
      arity = 3;
      break;
    case 'queues':
      arity = 4;
      break;
    case 'jobs':
    case 'scheduled-jobs':
    case 'leased-jobs':
    case 'completed-jobs':
    case 'failed-jobs':
      arity = 5;
      break;
    default:
      return fail('unknown-command');
  }
  if (frame.flags !== null || a.length !== arity) return fail('invalid-command-args');
  switch (a[1]) {
    case 'server':
      return { kind: 'inspect-server' };
    case 'job': {
      const id = frame.jobId(2);
      return id === null ? fail('invalid-id') : { kind: 'inspect-job', id };
    }
    case 'queue':
      return isValidName(a[2]!) ? { kind: 'inspect-queue', name: a[2]! } : fail('invalid-name');
    case 'queues': {
      const offset = u32(frame, 2);
      if (offset === null) return fail('invalid-cursor-offset');
      const count = limit(frame, 3);
      if (count === null) return fail('invalid-limit');
      return { kind: 'inspect-queues', offset, limit: count };
    }
    default: {
      const name = a[2]!;
      if (!isValidName(name)) return fail('invalid-name');
      const offset = u32(frame, 3);
      if (offset === null) return fail('invalid-cursor-offset');
      const count = limit(frame, 4);
      if (count === null) return fail('invalid-limit');
      switch (a[1]) {
        case 'jobs':
          return { kind: 'inspect-jobs', name, offset, limit: count };
        case 'scheduled-jobs':
          return { kind: 'inspect-scheduled-jobs', name, offset, limit: count };
        case 'leased-jobs':
          return { kind: 'inspect-state-jobs', state: 'leased', name, offset, limit: count };
        case 'completed-jobs':
          return { kind: 'inspect-state-jobs', state: 'completed', name, offset, limit: count };
        default:
          return { kind: 'inspect-state-jobs', state: 'failed', name, offset, limit: count };
      }
    }
  }
}

/**
 * Validates a framed command against its docs/protocol.md 5.x/6.x table up to the first check
 * that needs state (duplicate job, job known, queue exists, time + ttl ahead). Frames come
 * from the Parser, which has already checked flag syntax, arity and block framing.
 */
export function decode(frame: Frame): Request | DecodeError {
  switch (frame.spec.name) {
    case 'add':
      return decodeJob(frame, false);
    case 'schedule':
      return decodeJob(frame, true);
    case 'run':
      return decodeRun(frame);
    case 'result':
      return decodeResult(frame);
    case 'lease':
      return decodeLease(frame);
    case 'complete':
      return decodeFinish(frame, 'complete');
    case 'fail':
      return decodeFinish(frame, 'fail');
    case 'delete':
      return decodeDelete(frame);
    case 'inspect':
      return decodeInspect(frame);
    case 'auth':
      return flagCount(frame) > 0 ? fail('invalid-command-args') : { kind: 'auth', secret: frame.text(1) };
    case 'touch':
      return decodeTouch(frame);
    case 'pause':
      return decodePause(frame, true);
    case 'resume':
      return decodePause(frame, false);
    case 'retry':
      return decodeRetry(frame, false);
    case 'retry-failed':
      return decodeRetry(frame, true);
    default:
      return fail('unknown-command');
  }
}
