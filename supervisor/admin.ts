import { AggregatorRegistry, Registry } from 'prom-client';
import type { Logger } from 'pino';
import { startAdmin, type AdminListener } from '../src/admin/http.js';
import type { WorkqConfig } from '../src/config/load.js';
import { registerReadings, type Reading } from '../src/metrics/readings.js';
import { gatherChildMetrics } from './metrics-ipc.js';
import type { Supervisor, SupervisorStatus } from './primary.js';

/** How long a scrape waits for a child's metrics; a child slower than that is left out of that scrape. */
const CHILD_METRICS_TIMEOUT_MS = 2000;

/** The supervisor's own metrics: what it knows of each instance, read from status() at each scrape. */
function supervisorRegistry(status: () => Promise<SupervisorStatus>): Registry {
  const registry = new Registry();
  const perInstance = (value: (instance: SupervisorStatus['instances'][number]) => number) => async (): Promise<Reading[]> =>
    (await status()).instances.map((instance) => ({ labels: { instance: instance.name }, value: value(instance) }));
  registerReadings(registry, {
    name: 'workq_instance_restarts_total',
    help: 'Restarts of the instance after an unexpected exit, since the supervisor started.',
    type: 'counter',
    read: perInstance((instance) => instance.restarts),
  });
  registerReadings(registry, {
    name: 'workq_instance_up',
    help: '1 while the instance serves (state ready), else 0.',
    type: 'gauge',
    read: perInstance((instance) => (instance.state === 'ready' ? 1 : 0)),
  });
  registerReadings(registry, {
    name: 'workq_instance_state',
    help: 'The state of each instance as the supervisor sees it (starting, ready, backoff, failed, ...): 1 for the current one.',
    type: 'gauge',
    read: async () => (await status()).instances.map((instance) => ({ labels: { instance: instance.name, state: instance.state }, value: 1 })),
  });
  return registry;
}

/**
 * Starts the supervisor's admin listener unless the configuration turns it off. Status
 * comes from Supervisor.status() (the same JSON as `workq-server status --json`),
 * metrics from every child merged with the supervisor's own.
 */
export async function startSupervisorAdmin(config: WorkqConfig, supervisor: () => Supervisor, logger: Logger): Promise<AdminListener | null> {
  const { admin } = config;
  if (!admin.enabled) return null;
  const status = (): Promise<SupervisorStatus> => supervisor().status();
  const own = supervisorRegistry(status);
  try {
    return await startAdmin({
      host: admin.host,
      port: admin.port,
      logger,
      source: {
        status,
        metrics: async () => {
          const [children, mine] = await Promise.all([gatherChildMetrics(CHILD_METRICS_TIMEOUT_MS), own.getMetricsAsJSON()]);
          return AggregatorRegistry.aggregate([mine, ...children]);
        },
      },
    });
  } catch (error) {
    // The job servers matter more than their dashboard: they run on without it.
    logger.error({ err: error, host: admin.host, port: admin.port }, 'admin listener could not start: no /metrics, health checks or status page');
    return null;
  }
}
