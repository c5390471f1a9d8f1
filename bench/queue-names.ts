/**
 * One job under each of N distinct queue names against the same N jobs under one name
 * (docs/protocol.md 7.2: a new queue costs O(log n)), over TCP to a separate server
 * process with a command log: time and memory of the adds, then of the replay of that
 * log, and the time of deep `inspect jobs` / `inspect queues` pages.
 *
 *   npx tsc -p tsconfig.json && node --import=tsx bench/queue-names.ts [--jobs 1000000] [--at REV] [--only one|distinct]
 *
 * --at REV runs the server of that commit (git archive, run with tsx), for a before/after.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { snapshotLauncher, startWorkq, workqLauncher, type ServerProc, type WorkqLauncher } from './procs.js';

const BATCH = 5000;
const option = (name: string): string | undefined => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const jobs = Number(option('--jobs') ?? 1_000_000);
const at = option('--at');
const only = option('--only');
// The servers started below inherit this: limits.maxQueues (100,000 by default) raised past the flood.
process.env.WORKQ_MAX_QUEUES ??= String(jobs + 1);

/** Distinct names in no sorted order (an odd multiplier permutes 32-bit integers). */
const distinct = (i: number): string => `n${(Math.imul(i, 0x9e3779b1) >>> 0).toString(36)}`;
const single = (): string => 'one';

class Conn {
  private buffered = '';
  private want = 0;
  private wake: (() => void) | null = null;
  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffered += chunk;
      if (this.buffered.length >= this.want) this.wake?.();
    });
  }
  static open(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new Conn(socket)));
      socket.once('error', reject);
    });
  }
  /** Sends and waits for `bytes` bytes of reply. */
  async ask(text: string, bytes: number): Promise<string> {
    this.want = bytes;
    this.socket.write(text, 'latin1');
    while (this.buffered.length < bytes) await new Promise<void>((resolve) => (this.wake = resolve));
    const reply = this.buffered.slice(0, bytes);
    this.buffered = this.buffered.slice(bytes);
    return reply;
  }
  /** Sends and waits until the reply ends with `end`. */
  async askUntil(text: string, end: string): Promise<void> {
    this.socket.write(text, 'latin1');
    while (!this.buffered.endsWith(end)) await new Promise<void>((resolve) => ((this.want = this.buffered.length + 1), (this.wake = resolve)));
    this.buffered = '';
  }
  close(): void {
    this.socket.destroy();
  }
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;

async function timed(what: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await what();
  return performance.now() - start;
}

async function load(server: ServerProc, nameOf: (i: number) => string): Promise<number> {
  const conn = await Conn.open(server.port);
  const ms = await timed(async () => {
    for (let start = 0; start < jobs; start += BATCH) {
      const n = Math.min(BATCH, jobs - start);
      let text = '';
      for (let i = start; i < start + n; i++) text += `add ${randomUUID()} ${nameOf(i)} 60000 3600000 1\r\nx\r\n`;
      const reply = await conn.ask(text, 5 * n);
      if (reply !== '+OK\r\n'.repeat(n)) throw new Error(`unexpected reply after ${start}: ${reply.slice(0, 80)}`);
    }
  });
  conn.close();
  return ms;
}

/** Five pages near the end of what `command` lists, then a sentinel whose reply ends them all. */
async function deepPages(server: ServerProc, command: string): Promise<number> {
  const conn = await Conn.open(server.port);
  let text = '';
  for (let k = 1; k <= 5; k++) text += `${command} ${jobs - 100 * k} 100\r\n`;
  const ms = await timed(() => conn.askUntil(text + 'inspect queue none-such\r\n', '-NOT-FOUND\r\n'));
  conn.close();
  return ms;
}

async function run(label: string, nameOf: (i: number) => string, pages: string): Promise<void> {
  if (launcher === null) return;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'workq-names-'));
  try {
    let server = await startWorkq(launcher, { dir, sync: 'interval', timeoutMs: 600_000 });
    const base = server.rss();
    const addMs = await load(server, nameOf);
    const afterAdd = server.rss();
    const pageMs = await deepPages(server, pages);
    await server.stop(60_000);
    server = await startWorkq(launcher, { dir, sync: 'interval', timeoutMs: 600_000 });
    const replayMs = server.readyMs;
    const afterReplay = server.rss();
    await server.stop(60_000);
    console.log(
      `| ${label} | ${jobs} | ${(addMs / 1000).toFixed(1)} s (${Math.round(jobs / (addMs / 1000))}/s) | ${mb(afterAdd)} (start ${mb(base)}) | ${(replayMs / 1000).toFixed(1)} s | ${mb(afterReplay)} | ${pageMs.toFixed(0)} ms |`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let launcher: WorkqLauncher | null;
const snapshot = at === undefined ? null : mkdtempSync(path.join(os.tmpdir(), 'workq-names-at-'));
if (at !== undefined && snapshot !== null) launcher = snapshotLauncher(at, snapshot);
else launcher = workqLauncher();
if (launcher === null) throw new Error('no Workq-TS server to run');
console.log(`server: ${launcher.how}`);
console.log('| load | jobs | adds (one connection, 5000 in flight) | RSS after the adds | restart with replay | RSS after replay | 5 deep pages |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
if (only !== 'distinct') await run('one name', single, 'inspect jobs one');
if (only !== 'one') await run('distinct names', distinct, 'inspect queues');
if (snapshot !== null) rmSync(snapshot, { recursive: true, force: true });
