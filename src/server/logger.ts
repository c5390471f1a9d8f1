import { pino, type Logger } from 'pino';

/**
 * JSON lines on stdout; every line carries the bindings (role or instance name).
 *
 * Each line is written before the call returns, as Node writes its own stdout on Linux.
 * pino's default destination instead buffers a line and, at exit, writes what is left
 * synchronously, retrying a failed write until it succeeds: when stdout's reader is gone
 * by then (the process that spawned the server died, a terminal was closed), that write
 * never succeeds and the process never exits, SIGTERM or not. Here a failed write turns
 * logging off, and the process serves and stops without it. (pino already does so for
 * EPIPE; a closed terminal gives EIO.)
 */
export function createLogger(level: string, bindings: Record<string, string | number>): Logger {
  const destination = pino.destination({ dest: 1, sync: true });
  destination.on('error', () => {
    destination.write = () => true;
    destination.flushSync = () => {};
  });
  return pino({ level, base: { pid: process.pid, ...bindings } }, destination);
}
