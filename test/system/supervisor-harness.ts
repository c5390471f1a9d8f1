import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import { exited, freePort, root } from '../helpers/process.js';
import type { SupervisorStatus } from '../../supervisor/primary.js';

export const mainJs = path.join(root, 'dist/supervisor/main.js');
export const cliJs = path.join(root, 'dist/src/cli/workq-server.js');

export interface Deployment {
  dir: string;
  configFile: string;
  socket: string;
  ports: number[];
  dataDirs: string[];
  remove(): Promise<void>;
}

/** A temp directory with a config of `count` instances on free ports, each with its own log directory. */
export async function deployment(count: number, extra: Record<string, unknown> = {}): Promise<Deployment> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'workq-sys-'));
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  const dataDirs = ports.map((port) => path.join(dir, 'data', String(port)));
  const socket = path.join(dir, 'control.sock');
  const configFile = path.join(dir, 'workq.json');
  await writeFile(
    configFile,
    JSON.stringify({
      instances: ports.map((port, i) => ({ name: `q${i}`, port, cmdlog: { path: dataDirs[i] } })),
      supervisor: { controlSocket: socket, ...extra },
      // A free port each: tests run side by side (the 'admin listening' line tells which).
      admin: { port: 0 },
    }),
  );
  return { dir, configFile, socket, ports, dataDirs, remove: () => rm(dir, { recursive: true, force: true }) };
}

export type Supervised = ChildProcess & { output: () => string; lines: () => Array<Record<string, unknown>> };

/** Runs the built supervisor (dist/, or the main.js of another build) on the deployment's config, cwd in its directory. */
export function supervise(d: Deployment, args: string[] = [], env: NodeJS.ProcessEnv = {}, main = mainJs): Supervised {
  const child = spawn(process.execPath, [main, '--config', d.configFile, ...args], {
    cwd: d.dir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const lines = (): Array<Record<string, unknown>> =>
    output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return Object.assign(child, { output: () => output, lines });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function waitForLog(child: Supervised, msg: string, count = 1, timeoutMs = 60_000): Promise<true> {
  return waitFor(
    `log "${msg}" ×${count}\n${child.output()}`,
    () => child.lines().filter((line) => line['msg'] === msg).length >= count || undefined,
    timeoutMs,
  );
}

export interface StatusRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The built `workq-server status` with these arguments, in `cwd`. */
export function runStatus(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<StatusRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliJs, 'status', ...args], { cwd, env, encoding: 'utf8', timeout: 10_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr }),
    );
  });
}

/** `workq-server status --json` of the built CLI: the answer whether or not every instance serves (exit 0 or 3). */
export async function statusOf(d: Deployment): Promise<SupervisorStatus | null> {
  const run = await runStatus(['--json', '--config', d.configFile], d.dir);
  return run.code === 0 || run.code === 3 ? (JSON.parse(run.stdout) as SupervisorStatus) : null;
}

export async function stopped(child: ChildProcess, timeoutMs = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const result = await exited(child);
  clearTimeout(timer);
  return result;
}

/** A line-reading protocol client on one connection. */
export class LineClient {
  private buffer = '';
  private waiting: (() => void) | null = null;
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.waiting?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiting?.();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new LineClient(socket)));
      socket.once('error', reject);
    });
  }

  /**
   * Over TLS: resolves once the handshake is done (`ca` is the server's self-signed certificate).
   * Fails after `timeoutMs` without a finished handshake, so that a connection the supervisor lost
   * shows as a failed dial instead of a test that never ends.
   */
  static connectTls(port: number, ca: Buffer, timeoutMs = 60_000): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ca }, () => {
        clearTimeout(timer);
        resolve(new LineClient(socket));
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(Object.assign(new Error(`TLS connect to ${port}: no handshake in ${timeoutMs} ms`), { code: 'EHANDSHAKESTALLED' }));
      }, timeoutMs);
      socket.once('error', (error: Error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  async line(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.buffer.indexOf('\r\n');
      if (at !== -1) {
        const line = this.buffer.slice(0, at);
        this.buffer = this.buffer.slice(at + 2);
        return line;
      }
      if (this.closed) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no reply in time');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiting = null;
    }
  }

  send(text: string): void {
    this.socket.write(text, 'latin1');
  }

  async add(id: string = randomUUID(), queue = 'q'): Promise<string> {
    this.send(`add ${id} ${queue} 1000 600000 1\r\nx\r\n`);
    const reply = await this.line();
    if (reply !== '+OK') throw new Error(`add: ${reply}`);
    return id;
  }

  /** ready-len of the queue, 0 when it does not exist. */
  async readyLen(queue = 'q'): Promise<number> {
    this.send(`inspect queue ${queue}\r\n`);
    const head = await this.line();
    if (head.startsWith('-NOT-FOUND')) return 0;
    await this.line();
    const ready = await this.line();
    await this.line();
    return Number(ready.split(' ')[1]);
  }

  async hasJob(id: string): Promise<boolean> {
    this.send(`inspect job ${id}\r\n`);
    const head = await this.line();
    if (head.startsWith('-NOT-FOUND')) return false;
    if (head !== '+OK 1') throw new Error(`inspect job: ${head}`);
    const count = Number((await this.line()).split(' ')[1]);
    for (let i = 0; i < count; i++) await this.line();
    return true;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Adds `count` jobs to queue `fill` on `client`, pipelined in batches. */
export async function fillQueue(client: LineClient, count: number): Promise<void> {
  const batch = 5000;
  for (let done = 0; done < count; done += batch) {
    let text = '';
    for (let i = 0; i < batch; i++) text += `add ${randomUUID()} fill 1000 600000 1\r\nx\r\n`;
    client.send(text);
    for (let i = 0; i < batch; i++) {
      const reply = await client.line(120_000);
      if (reply !== '+OK') throw new Error(`fill: ${reply}`);
    }
  }
}

export interface Load {
  acked: string[];
  /** Date.now() of each acknowledgement, in order. */
  ackedAt: number[];
  /** Connection attempts refused (ECONNREFUSED). */
  refused: number;
  /** Connection attempts that failed otherwise (a reset, a TLS handshake error): their codes. */
  failed: string[];
  /** Connections that closed under a client, any command in flight unanswered. */
  dropped: number;
  stop(): Promise<void>;
}

/** `clients` connections adding one job at a time to queue `q`, each dialling anew when its connection closes. */
export function addLoad(dial: () => Promise<LineClient>, clients = 4): Load {
  const load = { acked: [] as string[], ackedAt: [] as number[], refused: 0, failed: [] as string[], dropped: 0 };
  let running = true;
  const one = async (): Promise<void> => {
    while (running) {
      let client: LineClient;
      try {
        client = await dial();
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ECONNREFUSED') load.refused++;
        else load.failed.push(code ?? String(error));
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      try {
        while (running) {
          const id = randomUUID();
          client.send(`add ${id} q 1000 600000 1\r\nx\r\n`);
          const reply = await client.line(120_000);
          if (reply !== '+OK') throw new Error(`add: ${reply}`);
          load.acked.push(id);
          load.ackedAt.push(Date.now());
        }
      } catch {
        load.dropped++;
      } finally {
        client.close();
      }
    }
  };
  const all = Array.from({ length: clients }, one);
  return Object.assign(load, {
    stop: async () => {
      running = false;
      await Promise.all(all);
    },
  });
}

/** The longest time between two acknowledgements of the load: how long its clients went unserved. */
export function longestGap(load: Pick<Load, 'ackedAt'>): number {
  let gap = 0;
  for (let i = 1; i < load.ackedAt.length; i++) gap = Math.max(gap, load.ackedAt[i]! - load.ackedAt[i - 1]!);
  return gap;
}

/** The IDs among `ids` that the server of `client` does not know. */
export async function missingJobs(client: LineClient, ids: string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const id of ids) if (!(await client.hasJob(id))) missing.push(id);
  return missing;
}

/** Retries `connect` until the port accepts (an instance that is coming back). */
export function connectWhenUp(port: number, timeoutMs = 60_000): Promise<LineClient> {
  return waitFor(`port ${port}`, () => LineClient.connect(port).catch(() => undefined), timeoutMs);
}
