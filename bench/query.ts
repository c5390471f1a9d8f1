/**
 * One-off questions to a server outside any measurement (how many jobs are ready after
 * a replay), where reading the reply as text is fine.
 */
import net from 'node:net';

/** Sends `request` and resolves with the first capture of `pattern` in the reply, or null. */
export function query(port: number, request: string, pattern: RegExp, timeoutMs = 5000): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    const done = (value: string | null): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.once('connect', () => socket.write(request));
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const m = pattern.exec(text);
      if (m) done(m[1] ?? null);
    });
    socket.once('error', () => done(null));
  });
}

export async function readyJobs(protocol: 'workq' | 'beanstalk', port: number, queue: string): Promise<number | null> {
  const answer =
    protocol === 'workq'
      ? await query(port, `inspect queue ${queue}\r\n`, /ready-len (\d+)\r\n/)
      : await query(port, `stats-tube ${queue}\r\n`, /current-jobs-ready: (\d+)\n/);
  return answer === null ? null : Number(answer);
}
