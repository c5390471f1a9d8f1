import cluster, { type Worker } from 'node:cluster';
import type { MetricObjectWithValues, MetricValue, Registry } from 'prom-client';

/**
 * Metrics over the cluster IPC channel, beside the supervisor's own messages: the
 * primary asks every child, each child answers with its registry as JSON, and the
 * primary merges what arrived in time (prom-client's AggregatorRegistry.aggregate).
 * A child that is busy or gone is left out of that scrape instead of failing it.
 */

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

interface MetricsRequest {
  type: 'workq:metrics-request';
  id: number;
}

interface MetricsReply {
  type: 'workq:metrics';
  id: number;
  metrics: MetricsJson;
}

function isType<T>(message: unknown, type: string): message is T {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

/** In a child: answers the primary's metrics requests from `registry`. */
export function answerMetricsRequests(registry: Registry): void {
  process.on('message', (message: unknown) => {
    if (!isType<MetricsRequest>(message, 'workq:metrics-request')) return;
    void registry.getMetricsAsJSON().then((metrics) => {
      const reply: MetricsReply = { type: 'workq:metrics', id: message.id, metrics: metrics };
      if (process.send && process.connected) process.send(reply);
    });
  });
}

let nextId = 0;

/** In the primary: every connected child's metrics that arrive within `timeoutMs`. */
export function gatherChildMetrics(timeoutMs: number): Promise<MetricsJson[]> {
  const workers = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && worker.isConnected());
  if (workers.length === 0) return Promise.resolve([]);
  const id = (nextId += 1);
  return new Promise((resolve) => {
    const replies: MetricsJson[] = [];
    const waiting = new Set(workers);
    const finish = (): void => {
      clearTimeout(timer);
      cluster.off('message', onMessage);
      cluster.off('exit', onExit);
      resolve(replies);
    };
    const settle = (worker: Worker): void => {
      if (waiting.delete(worker) && waiting.size === 0) finish();
    };
    const onMessage = (worker: Worker, message: unknown): void => {
      if (!isType<MetricsReply>(message, 'workq:metrics') || message.id !== id || !waiting.has(worker)) return;
      replies.push(message.metrics);
      settle(worker);
    };
    const onExit = (worker: Worker): void => settle(worker);
    const timer = setTimeout(finish, timeoutMs);
    cluster.on('message', onMessage);
    cluster.on('exit', onExit);
    const request: MetricsRequest = { type: 'workq:metrics-request', id };
    for (const worker of workers) {
      // With a callback, a channel that closed in the meantime is reported here instead
      // of as an 'error' event on the worker (which nothing else listens to).
      worker.send(request, (error: Error | null) => {
        if (error !== null) settle(worker);
      });
    }
  });
}
