import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { STATUS_PAGE } from './status-page.js';

/** What /readyz needs of an instance: every status this serves has at least these. */
export interface InstanceView {
  name: string;
  state: string;
  lastError: string | null;
}

/** Where the admin listener gets what it serves: the supervisor's, or a standalone server's. */
export interface AdminSource {
  /** The JSON of /status (for the supervisor, that of `workq-server status --json`). */
  status(): Promise<{ instances: readonly InstanceView[] }>;
  /** The metrics of every instance, gathered for this scrape. */
  metrics(): Promise<Registry>;
}

export interface AdminListener {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Instances that do not serve, one line each: why /readyz answers 503. Empty when all serve. */
export function notReadyReasons(instances: readonly InstanceView[]): string[] {
  return instances
    .filter((instance) => instance.state !== 'ready')
    .map((instance) => `instance ${instance.name}: ${instance.state}${instance.lastError === null ? '' : ` (${instance.lastError})`}`);
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

async function route(source: AdminSource, path: string, res: http.ServerResponse): Promise<void> {
  switch (path) {
    case '/healthz':
      send(res, 200, TEXT, 'ok\n');
      return;
    case '/readyz': {
      const reasons = notReadyReasons((await source.status()).instances);
      if (reasons.length === 0) send(res, 200, TEXT, 'ready\n');
      else send(res, 503, TEXT, `not ready\n${reasons.join('\n')}\n`);
      return;
    }
    case '/status':
      send(res, 200, JSON_TYPE, `${JSON.stringify(await source.status())}\n`);
      return;
    case '/metrics': {
      const registry = await source.metrics();
      send(res, 200, registry.contentType, await registry.metrics());
      return;
    }
    case '/api/metrics':
      send(res, 200, JSON_TYPE, JSON.stringify(await (await source.metrics()).getMetricsAsJSON()));
      return;
    case '/':
      send(res, 200, 'text/html; charset=utf-8', STATUS_PAGE);
      return;
    default:
      send(res, 404, TEXT, 'not found: try /, /metrics, /healthz, /readyz or /status\n');
  }
}

/**
 * The admin HTTP listener: /metrics (Prometheus text), /healthz, /readyz, /status, the
 * status page at / and the JSON it reads (/api/metrics). Read-only: it answers GET and
 * HEAD only.
 */
export function startAdmin(options: { host: string; port: number; source: AdminSource; logger: Logger }): Promise<AdminListener> {
  const { source, logger } = options;
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      send(res, 405, TEXT, 'method not allowed\n');
      return;
    }
    const path = new URL(req.url ?? '/', 'http://admin').pathname;
    route(source, path, res).catch((error: unknown) => {
      logger.error({ err: error, path }, 'admin request failed');
      if (!res.headersSent) send(res, 500, TEXT, `${(error as Error).message}\n`);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      logger.info({ host: address.address, port: address.port }, 'admin listening');
      resolve({
        host: address.address,
        port: address.port,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
