import type { Socket } from 'node:net';
import { serverErrorLine } from '../protocol/errors.js';
import { SERVER_ERROR_TEXT } from '../protocol/vocabulary.js';
import { lingeringClose } from './linger.js';
import { DEFAULT_JOB_MEMORY_BYTES } from './heap-limit.js';
import type { AuthSettings, LimitSettings } from './types.js';

/**
 * Defaults of the per-instance limits (docs/operations.md, Limits). The backlog is above
 * Node's 511 so that a burst of reconnecting workers after a restart is not dropped by
 * the kernel; Linux silently caps it at net.core.somaxconn (4096 on current kernels).
 */
export const DEFAULT_LIMITS: Readonly<LimitSettings> = Object.freeze({
  maxClients: 10_000,
  idleTimeoutMs: 0,
  backlog: 4096,
  maxJobMemoryBytes: DEFAULT_JOB_MEMORY_BYTES,
  maxReplyBufferBytes: 64 * 1024 * 1024,
  maxQueues: 100_000,
  authTimeoutMs: 10_000,
  tlsHandshakeTimeoutMs: 10_000,
});

const TOO_MANY_CLIENTS_LINE = serverErrorLine(SERVER_ERROR_TEXT.tooManyClients);

/**
 * Turns away a connection past maxClients: one error line, then close once it is sent.
 * Nothing it sends is read as a command.
 */
export function refuseConnection(socket: Socket): void {
  socket.on('error', () => socket.destroy());
  socket.write(TOO_MANY_CLIENTS_LINE);
  lingeringClose(socket);
}

const LOOPBACK_NAMES = new Set(['localhost', '::1', '0:0:0:0:0:0:0:1']);

/** True when `host` can only be reached from this machine: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  if (LOOPBACK_NAMES.has(host.toLowerCase())) return true;
  const v4 = host.startsWith('::ffff:') ? host.slice(7) : host;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/**
 * Why listening on `host` without a secret is refused, or null when it is allowed: on a
 * loopback address, with a secret, or when the configuration says the exposure is intended.
 */
export function exposureProblem(host: string, auth: AuthSettings | undefined): string | null {
  if (isLoopback(host)) return null;
  if (auth !== undefined && (auth.secrets.length > 0 || auth.allowUnauthenticated)) return null;
  return `refusing to listen on ${host} without a secret: anyone who can reach it could add, lease, complete or delete any job. Set auth.secrets (or WORKQ_AUTH_SECRETS), listen on 127.0.0.1, or set auth.allowUnauthenticated to true if an open port is intended (a trusted network or a firewall in front)`;
}
