/**
 * Contracts of the protocol layer: what the parser produces, what the decoder turns it
 * into, and what the reply writer needs to know of a job. Nothing here knows the engine;
 * the engine's Job satisfies JobInfo structurally.
 */

import type { Frame } from './frame.js';

/** One row of the command table (commands.ts). */
export interface CommandSpec {
  readonly name: string;
  /** Its place in COMMANDS: the row of per-command tables (counts, the parser's recent arguments). */
  readonly index: number;
  /** Positional argument count including the command name; max is Infinity for open-ended. */
  readonly minArgs: number;
  readonly maxArgs: number;
  /** The command carries a data block whose size is its last positional argument. */
  readonly block: boolean;
  /** Error text for every block error (docs/protocol.md 2.4 error E). */
  readonly blockError: ClientError | null;
  /** Changes state: logged, and refused in read-only mode. */
  readonly mutating: boolean;
  /** May wait (lease, run, result). */
  readonly blocking: boolean;
}

/** Where the push parser delivers what it frames, in input order. */
export interface ParserSink {
  /** `frame` is the parser's until the call returns: a sink that keeps it keeps `frame.keep()`. */
  command(frame: Frame): void;
  /** A framing error answered with a reply; the connection stays usable. */
  error(error: ClientError): void;
  /** The framing cannot be recovered: send `error` if given, then close the connection. */
  close(error: ClientError | null): void;
}

/** Every `-CLIENT-ERROR <text>` of docs/protocol.md 4, by code. */
export type ClientError =
  | 'unknown-command'
  | 'invalid-command-args'
  | 'invalid-command-flags'
  | 'invalid-payload-size'
  | 'invalid-result-size'
  | 'invalid-id'
  | 'invalid-name'
  | 'invalid-ttr'
  | 'invalid-ttl'
  | 'invalid-time'
  | 'invalid-priority'
  | 'invalid-max-attempts'
  | 'invalid-max-fails'
  | 'invalid-wait-timeout'
  | 'invalid-cursor-offset'
  | 'invalid-limit'
  | 'duplicate-job'
  | 'duplicate-result'
  | 'authentication-required'
  | 'invalid-secret'
  /** Extensions (docs/protocol-extensions.md): touch on a job that is not leased, retry flags. */
  | 'job-not-leased'
  | 'job-not-failed'
  | 'invalid-retry-delay'
  | 'invalid-retry-max-delay'
  | 'invalid-retry-jitter';

/**
 * A job's retry delay (docs/protocol-extensions.md): `delayMs` before the first retry,
 * doubling per retry up to `maxDelayMs` when that is above 0, each shortened by a random
 * share of up to `jitterPercent`.
 */
export interface RetryDelay {
  readonly delayMs: number;
  readonly maxDelayMs: number;
  readonly jitterPercent: number;
}

/** A command whose fields passed every check of its docs/protocol.md 5.x table that needs no state. */
export type Request =
  | {
      kind: 'add';
      id: string;
      name: string;
      ttr: number;
      ttl: number;
      priority: number;
      maxAttempts: number;
      maxFails: number;
      /** A view of the command's block, valid while the command is dispatched. */
      payload: Uint8Array;
      retry: RetryDelay | null;
    }
  | {
      kind: 'schedule';
      id: string;
      name: string;
      ttr: number;
      ttl: number;
      timeSec: number;
      timeNsec: number;
      priority: number;
      maxAttempts: number;
      maxFails: number;
      /** A view of the command's block, valid while the command is dispatched. */
      payload: Uint8Array;
      retry: RetryDelay | null;
    }
  | { kind: 'run'; id: string; name: string; ttr: number; timeout: number; priority: number; payload: Uint8Array }
  | { kind: 'result'; id: string; timeout: number }
  | { kind: 'lease'; names: string[]; timeout: number }
  | { kind: 'complete'; id: string; result: string }
  | { kind: 'fail'; id: string; result: string }
  /** `valid` false: a well-formed ID that is not v4, answered +OK with no effect (docs/protocol.md 5.8). */
  | { kind: 'delete'; id: string; valid: boolean }
  /** `ttr` null: the job's own TTR. */
  | { kind: 'touch'; id: string; ttr: number | null }
  | { kind: 'pause'; name: string; paused: boolean }
  | { kind: 'retry'; id: string }
  | { kind: 'retry-failed'; name: string }
  | { kind: 'inspect-state-jobs'; state: 'leased' | 'completed' | 'failed'; name: string; offset: number; limit: number }
  | { kind: 'inspect-job'; id: string }
  | { kind: 'inspect-jobs'; name: string; offset: number; limit: number }
  | { kind: 'inspect-scheduled-jobs'; name: string; offset: number; limit: number }
  | { kind: 'inspect-queue'; name: string }
  | { kind: 'inspect-queues'; offset: number; limit: number }
  | { kind: 'inspect-server' }
  | { kind: 'auth'; secret: string };

/** A decode failure. */
export interface DecodeError {
  kind: 'error';
  error: ClientError;
}

/** A leased job's payload as its reply copies it: from where the job keeps its bytes, with no string made. */
export interface PayloadSource {
  readonly payloadLength: number;
  /** Writes the payload's bytes at `off` of `buf`; returns the offset after them. */
  writePayload(buf: Buffer, off: number): number;
}

/** What an `inspect` job block shows (docs/protocol.md 6.1). */
export interface JobInfo {
  readonly id: string;
  readonly name: string;
  readonly ttr: number;
  readonly ttl: number;
  /** latin1: one char per byte. */
  readonly payload: string;
  readonly maxAttempts: number;
  readonly attempts: number;
  readonly maxFails: number;
  readonly fails: number;
  readonly priority: number;
  readonly state: number;
  readonly createdSec: number;
  readonly timeSec: number;
  readonly timeNsec: number;
  /** Unix ms at which a job waiting out its retry delay becomes ready; 0 when it is not waiting. */
  readonly retryAt: number;
}

export interface QueueInfo {
  readonly name: string;
  readonly readyLen: number;
  readonly scheduledLen: number;
  /** Shown (as a third key) only when true, so a queue never paused reads as in the original. */
  readonly paused: boolean;
}
