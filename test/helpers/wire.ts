import net from 'node:net';
import tls from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { pino } from 'pino';
import { startServer } from '../../src/server/server.js';
import type { ServerOptions, WorkqServer } from '../../src/server/types.js';
import type { Clock } from '../../src/jobs/types.js';
import type { LogFileSystem } from '../../src/cmdlog/types.js';

export const silent = pino({ level: 'silent' });

export interface TestServerOptions {
  cmdlogPath?: string | null;
  sync?: ServerOptions['cmdlog']['sync'];
  segmentSize?: number;
  cleanIntervalMs?: number;
  clock?: Clock;
  fs?: LogFileSystem;
  host?: string;
  auth?: ServerOptions['auth'];
  tls?: ServerOptions['tls'];
  limits?: ServerOptions['limits'];
}

/** Starts a real server on 127.0.0.1 (unless `host` says otherwise) with a free port. */
export async function startTestServer(options: TestServerOptions = {}): Promise<WorkqServer> {
  return startServer({
    host: options.host ?? '127.0.0.1',
    port: 0,
    cmdlog: {
      path: options.cmdlogPath ?? null,
      sync: options.sync ?? 'interval',
      syncIntervalMs: 1000,
      segmentSize: options.segmentSize ?? 64 * 1024 * 1024,
      cleanIntervalMs: options.cleanIntervalMs ?? 300_000,
    },
    logger: silent,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.fs ? { cmdlogFs: options.fs } : {}),
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
  });
}

export async function tempDir(prefix = 'workq-test-'): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { path: dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A raw protocol client for byte-exact tests: send bytes, then read exactly the bytes a
 * reply should have, within a time limit.
 */
export class Wire {
  private buffered = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on('error', () => undefined);
  }

  /** The same over TLS; `options` carries the CA that signed the test certificate. */
  static connectTls(port: number, options: tls.ConnectionOptions): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ...options }, () => resolve(new Wire(socket)));
      socket.once('error', reject);
    });
  }

  static connect(port: number): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new Wire(socket)));
      socket.once('error', reject);
    });
  }

  send(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /**
   * Reads exactly `n` bytes (or fewer if the server closes), waiting up to `timeoutMs`:
   * a bound for a failing test, generous as a loaded machine stalls for seconds.
   */
  async read(n: number, timeoutMs = 20_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffered.length < n && !this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = null;
    }
    const taken = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(taken.length);
    return Buffer.from(taken);
  }

  /** Reads as many bytes as `expected` has and returns them as latin1 text for comparison. */
  async reply(expected: string | Buffer, timeoutMs = 20_000): Promise<string> {
    const length = typeof expected === 'string' ? Buffer.byteLength(expected, 'latin1') : expected.length;
    return (await this.read(length, timeoutMs)).toString('latin1');
  }

  /** Resolves true if nothing arrives for `ms`. */
  async silentFor(ms: number): Promise<boolean> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.buffered.length === 0;
  }

  /** Waits until the server closes the connection. */
  async waitClosed(timeoutMs = 20_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}
