import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkqConfig } from './load.js';

/**
 * Where a supervisor serves its status, and where `workq-server status` looks: the
 * `--control` flag, else `supervisor.controlSocket` (WORKQ_CONTROL_SOCKET), else one
 * default per user and host. The default depends on nothing of the configuration, so
 * `status` finds the supervisor from any directory and with any --config; a second
 * supervisor of the same user on the same host needs a socket of its own.
 *
 * The default is in the temp directory and not $XDG_RUNTIME_DIR: a login shell has the
 * latter and a service started at boot (pm2 startup) usually not, and the two must agree.
 */
export function defaultControlSocket(): string {
  return join(tmpdir(), `workq-${process.getuid?.() ?? 0}`, 'control.sock');
}

export function controlSocketPath(config: WorkqConfig): string {
  return config.supervisor.controlSocket === '' ? defaultControlSocket() : config.supervisor.controlSocket;
}
