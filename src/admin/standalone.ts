import type { Registry } from 'prom-client';
import type { WorkqServer } from '../server/types.js';
import type { AdminSource } from './http.js';

/** One instance's status in the shape of the supervisor's (`workq-server status --json`). */
export interface StandaloneStatus {
  pid: number;
  startedAt: number;
  instances: Array<{
    name: string;
    pid: number;
    host: string;
    port: number;
    state: 'starting' | 'ready' | 'stopping';
    restarts: number;
    uptimeMs: number | null;
    jobs: number | null;
    connections: number | null;
    lastError: string | null;
  }>;
}

/** What a standalone server's admin listener serves: its own status and metrics, as the supervisor would for it. */
export class StandaloneAdmin implements AdminSource {
  private server: WorkqServer | null = null;
  private stopping = false;
  private readonly startedAt = Date.now();

  constructor(
    private readonly instance: { name: string; host: string; port: number },
    private readonly registry: Registry,
  ) {}

  serving(server: WorkqServer): void {
    this.server = server;
  }

  stopped(): void {
    this.stopping = true;
  }

  status(): Promise<StandaloneStatus> {
    const server = this.server;
    const status = server?.status() ?? null;
    const state = this.stopping ? 'stopping' : server === null ? 'starting' : 'ready';
    return Promise.resolve({
      pid: process.pid,
      startedAt: this.startedAt,
      instances: [
        {
          name: this.instance.name,
          pid: process.pid,
          host: this.instance.host,
          port: status?.port ?? this.instance.port,
          state,
          restarts: 0,
          uptimeMs: status === null ? null : Date.now() - status.startedAt,
          jobs: status?.jobs ?? null,
          connections: status?.connections ?? null,
          lastError: null,
        },
      ],
    });
  }

  metrics(): Promise<Registry> {
    return Promise.resolve(this.registry);
  }
}
