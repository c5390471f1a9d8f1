import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import type { WorkqConfig } from './load.js';

/**
 * Where the supervisor of this configuration serves its status. Derived from the
 * instances (ports and directories), so `workq-server status` with the same
 * configuration finds it, and two supervisors of one set of instances meet on it.
 */
export function controlSocketPath(config: WorkqConfig, cwd = process.cwd()): string {
  if (config.supervisor.controlSocket !== '') return resolvePath(cwd, config.supervisor.controlSocket);
  const identity = config.instances
    .map((instance) => `${instance.host}:${instance.port}:${instance.cmdlog.path ?? ''}`)
    .sort()
    .join('\n');
  const digest = createHash('sha256').update(identity).digest('hex').slice(0, 16);
  return join(tmpdir(), `workq-${digest}.sock`);
}
