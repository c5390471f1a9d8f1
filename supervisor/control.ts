import { chmodSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import type { Result } from '../src/config/resolve.js';
import type { SupervisorStatus } from './primary.js';

/**
 * The supervisor's local control socket: a client writes `status\n` and reads one line
 * of JSON (SupervisorStatus) before the supervisor closes the connection.
 */

const REQUEST_LIMIT = 64;

function probe(path: string): Promise<'live' | 'stale' | 'absent'> {
  return new Promise((resolve) => {
    const socket = net.connect(path, () => {
      socket.destroy();
      resolve('live');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ENOENT' ? 'absent' : 'stale'));
  });
}

/** Serves status on `path`; refuses when another supervisor already answers there. */
export async function serveControl(path: string, status: () => Promise<SupervisorStatus>): Promise<Result<net.Server>> {
  const found = await probe(path);
  if (found === 'live') {
    return {
      ok: false,
      error: `another supervisor answers on the control socket ${path}: stop it, or give this one a socket of its own (supervisor.controlSocket, WORKQ_CONTROL_SOCKET or --control)`,
    };
  }
  if (found === 'stale') {
    try {
      unlinkSync(path);
    } catch (error) {
      return { ok: false, error: `cannot remove the stale control socket ${path}: ${(error as Error).message}` };
    }
  }
  const server = net.createServer((socket) => {
    let request = '';
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    socket.on('data', (chunk: string) => {
      request += chunk;
      if (!request.includes('\n') && request.length < REQUEST_LIMIT) return;
      socket.removeAllListeners('data');
      if (request.trim() !== 'status') {
        socket.end(`${JSON.stringify({ error: 'unknown request' })}\n`);
        return;
      }
      void status().then((value) => socket.end(`${JSON.stringify(value)}\n`));
    });
  });
  return new Promise((resolve) => {
    server.once('error', (error) => resolve({ ok: false, error: `cannot listen on the control socket ${path}: ${error.message}` }));
    server.listen(path, () => {
      // Only this user may connect: the socket is created as the umask allows, often 0755 or wider.
      try {
        chmodSync(path, 0o600);
      } catch (error) {
        server.close();
        resolve({ ok: false, error: `cannot make the control socket ${path} private: ${(error as Error).message}` });
        return;
      }
      resolve({ ok: true, value: server });
    });
  });
}

/** Asks the supervisor listening on `path` for its status. */
export function requestStatus(path: string, timeoutMs = 5000): Promise<Result<SupervisorStatus>> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = net.connect(path, () => socket.write('status\n'));
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      resolve({ ok: false, error: `no answer from the supervisor on ${path} within ${timeoutMs} ms` });
    });
    socket.on('data', (chunk: string) => (reply += chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'ENOENT' || error.code === 'ECONNREFUSED' ? 'no supervisor answers' : error.message;
      resolve({ ok: false, error: `${why} on the control socket ${path}` });
    });
    socket.on('end', () => {
      try {
        resolve({ ok: true, value: JSON.parse(reply) as SupervisorStatus });
      } catch {
        resolve({ ok: false, error: `unreadable answer from the supervisor on ${path}` });
      }
    });
  });
}
