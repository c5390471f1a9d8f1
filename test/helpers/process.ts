import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Servers still running when the test process exits (a failed or timed-out test) are killed with it. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** For each server started here: its exit, once its output has been read to the end as well. */
const outputEnds = new WeakMap<ChildProcess, Promise<{ code: number | null; signal: NodeJS.Signals | null }>>();

/**
 * Starts `workq-server` as a real child process: from the TypeScript sources, or with
 * `built`, from `dist/` as `npm start` runs it (`npm test` builds it first).
 */
export function spawnServer(args: string[], { built = false } = {}): ChildProcess & { output: () => string } {
  const entry = built ? [path.join(root, 'dist/src/cli/workq-server.js')] : ['--import=tsx', path.join(root, 'src/cli/workq-server.ts')];
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  // 'close' comes after 'exit' once the child's pipes have ended: its last lines are in output().
  outputEnds.set(child, new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal }))));
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return Object.assign(child, { output: () => output });
}

/**
 * Resolves with the child's output once it matches `pattern`: a server may accept
 * connections before the parent has read what it printed first.
 */
export async function printed(child: { output: () => string }, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(child.output())) {
    if (Date.now() > deadline) throw new Error(`no output matching ${String(pattern)} after ${timeoutMs} ms; got: ${child.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return child.output();
}

/** Resolves once something accepts connections on the port, or rejects after `timeoutMs` (a server from the sources starts in seconds on a loaded machine). */
export async function waitForPort(port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Resolves when the child has exited; for a server from spawnServer, also once all it
 * printed is in its output(): 'exit' may come before the last of it has been read.
 */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const ended = outputEnds.get(child);
  if (ended !== undefined) return ended;
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Starts test/helpers/lock-holder.ts (`flock FILE` or `dir DIR`) and resolves once it holds its lock. */
export async function spawnLockHolder(mode: 'flock' | 'dir', target: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import=tsx', path.join(root, 'test/helpers/lock-holder.ts'), mode, target], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code} before taking its lock`)));
  });
  return child;
}
