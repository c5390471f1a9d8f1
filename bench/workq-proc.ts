/**
 * Stand-in for the workq-server CLI while it does not exist: the same flags the bench
 * passes (`-listen HOST:PORT [-cmdlog-path DIR] [-cmdlog-sync POLICY]
 * [-cmdlog-sync-int MS]`), straight on `startServer`. SIGTERM stops it gracefully.
 */
import { pino } from 'pino';
import { startServer } from '../src/server/server.js';
import type { SyncPolicy } from '../src/server/types.js';

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const [host = '127.0.0.1', port = '9922'] = (flag('-listen') ?? '127.0.0.1:9922').split(':');
const server = await startServer({
  host,
  port: Number(port),
  cmdlog: {
    path: flag('-cmdlog-path') ?? null,
    sync: (flag('-cmdlog-sync') ?? 'interval') as SyncPolicy,
    syncIntervalMs: Number(flag('-cmdlog-sync-int') ?? '1000'),
    segmentSize: 67108864,
    cleanIntervalMs: 300000,
  },
  logger: pino({ level: 'warn' }, pino.destination(2)),
});

process.once('SIGTERM', () => {
  void server.stop().then(() => process.exit(0));
});
