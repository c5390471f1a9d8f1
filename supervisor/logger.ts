import { pino, type Logger } from 'pino';

/** JSON lines on stdout; every line carries the bindings (role or instance name). */
export function createLogger(level: string, bindings: Record<string, string | number>): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings } });
}
