/**
 * Hot restart (SIGHUP) or cold restart (SIGTERM, then a new supervisor) of a supervised
 * instance holding many jobs, under a steady pipelined add load. Reports the longest gap
 * between two acknowledged adds (anywhere, and across the handover), refused connection
 * attempts, adds left unanswered by a closed connection, and acknowledged adds missing
 * afterwards (must be 0). `--mode none` restarts nothing for `--idle` seconds: the longest
 * gap the machine itself causes under the same load, to read the others against. The pm2-*
 * modes run the supervisor under PM2 (ecosystem.config.js, a private PM2_HOME) and
 * restart it with `pm2 reload workq` or `pm2 sendSignal SIGHUP workq`.
 *
 *   node --import=tsx bench/hot-restart.ts [--mode hot|cold|none|pm2-reload|pm2-sighup] [--jobs 200000] [--root DIR] [--log]
 *
 * --root runs another build (its dist/supervisor/main.js), e.g. main's, for a before/after.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs, promisify } from 'node:util';
import { ROOT } from './procs.js';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'hot' },
    idle: { type: 'string', default: '20' },
    jobs: { type: 'string', default: '200000' },
    root: { type: 'string', default: ROOT },
    conns: { type: 'string', default: '4' },
    depth: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '3' },
    /** Print the supervisor's log lines from the restart on (its timeline). */
    log: { type: 'boolean', default: false },
  },
});
const MODES = ['hot', 'cold', 'none', 'pm2-reload', 'pm2-sighup'] as const;
const mode = MODES.find((known) => known === values.mode);
if (mode === undefined) throw new Error(`--mode: one of ${MODES.join(', ')}`);
const jobs = Number(values.jobs);
const conns = Number(values.conns);
const depth = Number(values.depth);
const settleMs = Number(values.seconds) * 1000;
const mainJs = path.join(path.resolve(values.root), 'dist/supervisor/main.js');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface Supervising {
  waitLog(msg: string, count?: number): Promise<void>;
  /** Asks for a hot restart. */
  hup(): Promise<void>;
  /** Graceful stop; nothing when stopped already. */
  stop(): Promise<void>;
  /** The supervisor's log so far (its JSON lines). */
  output(): string;
}

function supervise(config: string): Supervising & { proc: ChildProcess } {
  const proc = spawn(process.execPath, [mainJs, '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  proc.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const waitLog = async (msg: string, count = 1): Promise<void> => {
    for (;;) {
      if (output.split(`"msg":"${msg}"`).length > count) return;
      if (proc.exitCode !== null) throw new Error(`supervisor exited:\n${output.slice(-4000)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    await exited;
  };
  const hup = (): Promise<void> => {
    proc.kill('SIGHUP');
    return Promise.resolve();
  };
  return { proc, waitLog, hup, stop, output: () => output };
}

const run = promisify(execFile);

/** The supervisor under PM2: ecosystem.config.js of --root, PM2 of this tree, PM2_HOME in `dir`. */
async function underPm2(dir: string, port: number): Promise<Supervising & { reload(): Promise<void> }> {
  const pm2Bin = path.join(ROOT, 'node_modules/.bin/pm2');
  const home = path.join(dir, 'pm2');
  const env = {
    ...process.env,
    PM2_HOME: home,
    WORKQ_INSTANCES: JSON.stringify([{ name: 'q0', port, cmdlog: { path: path.join(dir, 'data') } }]),
    WORKQ_CONTROL_SOCKET: path.join(dir, 'control.sock'),
    WORKQ_READY_TIMEOUT_MS: '600000',
  };
  const pm2 = async (...args: string[]): Promise<void> => {
    await run(pm2Bin, args, { cwd: path.resolve(values.root), env, timeout: 600_000 });
  };
  // workq-out-<pm_id>.log, once PM2 has started the app
  const output = (): string =>
    readdirSync(path.join(home, 'logs'))
      .filter((file) => file.startsWith('workq-out'))
      .map((file) => readFileSync(path.join(home, 'logs', file), 'utf8'))
      .join('');
  const waitLog = async (msg: string, count = 1): Promise<void> => {
    for (;;) {
      if (output().split(`"msg":"${msg}"`).length > count) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  await pm2('start', 'ecosystem.config.js');
  let killed = false;
  return {
    waitLog,
    output,
    hup: () => pm2('sendSignal', 'SIGHUP', 'workq'),
    // Returns once the new supervisor sent 'ready' (wait_ready).
    reload: () => pm2('reload', 'workq'),
    stop: async () => {
      if (!killed) await pm2('kill');
      killed = true;
    },
  };
}

/** One connection reading CRLF lines. */
function lines(socket: net.Socket, onLine: (line: string) => void): void {
  let buffer = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let at: number;
    while ((at = buffer.indexOf('\r\n')) !== -1) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      onLine(line);
    }
  });
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

async function fill(port: number, count: number): Promise<void> {
  const socket = await connect(port);
  const batch = 10_000;
  let answered = 0;
  let wake: () => void = () => undefined;
  lines(socket, (line) => {
    if (line !== '+OK') throw new Error(`fill: ${line}`);
    answered++;
    wake();
  });
  for (let sent = 0; sent < count; sent += batch) {
    let text = '';
    for (let i = 0; i < batch; i++) text += `add ${randomUUID()} fill 60000 3600000 1\r\nx\r\n`;
    socket.write(text);
    while (answered < sent + batch) await new Promise<void>((resolve) => (wake = resolve));
  }
  socket.destroy();
}

interface LoadResult {
  acks: number[];
  ids: string[];
  refused: number;
  unanswered: number;
}

function load(port: number): { result: LoadResult; stop(): Promise<void> } {
  const result: LoadResult = { acks: [], ids: [], refused: 0, unanswered: 0 };
  let running = true;
  const one = async (): Promise<void> => {
    while (running) {
      let socket: net.Socket;
      try {
        socket = await connect(port);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ECONNREFUSED') result.refused++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      const inFlight: string[] = [];
      await new Promise<void>((resolve) => {
        const send = (): void => {
          const id = randomUUID();
          inFlight.push(id);
          socket.write(`add ${id} load 60000 3600000 1\r\nx\r\n`);
        };
        lines(socket, (line) => {
          const id = inFlight.shift()!;
          if (line === '+OK') {
            result.acks.push(performance.now());
            result.ids.push(id);
          }
          if (running) send();
          else if (inFlight.length === 0) socket.end();
        });
        socket.on('error', () => undefined);
        socket.on('close', () => {
          result.unanswered += inFlight.length;
          resolve();
        });
        for (let i = 0; i < depth; i++) send();
      });
    }
  };
  const all = Array.from({ length: conns }, one);
  return {
    result,
    stop: async () => {
      running = false;
      await Promise.all(all);
    },
  };
}

/** Acknowledged IDs the server does not know. */
async function missing(port: number, ids: string[]): Promise<number> {
  const socket = await connect(port);
  let lost = 0;
  let answered = 0;
  let skip = 0;
  let wake: () => void = () => undefined;
  lines(socket, (line) => {
    if (skip > 0) {
      skip--;
      if (skip === 0) answered++;
    } else if (line === '-NOT-FOUND') {
      lost++;
      answered++;
    } else if (line === '+OK 1') skip = -1;
    else if (skip === -1) skip = Number(line.split(' ')[1]);
    wake();
  });
  const batch = 2000;
  for (let sent = 0; sent < ids.length; sent += batch) {
    socket.write(
      ids
        .slice(sent, sent + batch)
        .map((id) => `inspect job ${id}\r\n`)
        .join(''),
    );
    while (answered < Math.min(ids.length, sent + batch)) await new Promise<void>((resolve) => (wake = resolve));
  }
  socket.destroy();
  return lost;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'workq-bench-hot-'));
let supervisor: Supervising | null = null;
try {
  const port = await freePort();
  const config = path.join(dir, 'workq.json');
  writeFileSync(
    config,
    JSON.stringify({
      instances: [{ name: 'q0', port, cmdlog: { path: path.join(dir, 'data') } }],
      supervisor: { controlSocket: path.join(dir, 'control.sock'), readyTimeoutMs: 600_000 },
      admin: { port: 0 },
    }),
  );
  const pm2 = mode.startsWith('pm2-') ? await underPm2(dir, port) : null;
  supervisor = pm2 ?? supervise(config);
  await supervisor.waitLog('supervisor ready');
  const filled = performance.now();
  await fill(port, jobs);
  const fillMs = performance.now() - filled;

  const running = load(port);
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  const from = performance.now();
  if (mode === 'hot' || mode === 'pm2-sighup') {
    await supervisor.hup();
    await supervisor.waitLog('hot restart done');
  } else if (mode === 'none') {
    await new Promise((resolve) => setTimeout(resolve, Number(values.idle) * 1000));
  } else if (mode === 'cold') {
    await supervisor.stop();
    supervisor = supervise(config);
    await supervisor.waitLog('supervisor ready');
  } else {
    await pm2!.reload();
    await supervisor.waitLog('supervisor ready', 2);
  }
  const restartMs = performance.now() - from;
  const fromWall = Date.now() - restartMs;
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  await running.stop();

  const acks = running.result.acks.filter((at) => at >= from - settleMs);
  let gap = 0;
  let gapAt = from;
  for (let i = 1; i < acks.length; i++) {
    if (acks[i]! - acks[i - 1]! <= gap) continue;
    gap = acks[i]! - acks[i - 1]!;
    gapAt = acks[i - 1]!;
  }
  // The handover: from the old server's stop (hot: asked to hand over; cold: SIGTERM) to
  // the first add acknowledged once the new one serves. The longest gap can lie elsewhere
  // on a busy machine (a stalled event loop, a garbage collection), so both are reported.
  const hot = mode === 'hot' || mode === 'pm2-sighup';
  const stopLine = hot ? /"time":(\d+),[^\n]*"reason":"request","msg":"stopping"/.exec(supervisor.output()) : null;
  const stopAt = stopLine === null ? from : Number(stopLine[1]) - performance.timeOrigin;
  const readyAt = from + restartMs;
  let handoverGap = 0;
  for (
    let i = Math.max(
      1,
      acks.findIndex((at) => at >= stopAt),
    );
    i < acks.length && acks[i - 1]! < readyAt;
    i++
  ) {
    handoverGap = Math.max(handoverGap, acks[i]! - acks[i - 1]!);
  }
  const lost = await missing(port, running.result.ids);
  const report = {
    mode,
    root: values.root,
    jobs,
    conns,
    depth,
    fillMs: Math.round(fillMs),
    restartMs: Math.round(restartMs),
    longestGapMs: Math.round(gap),
    /** Where it began, in ms since the restart began (SIGHUP, or SIGTERM for a cold one). */
    longestGapAtMs: Math.round(gapAt - from),
    handoverGapMs: mode === 'none' ? null : Math.round(handoverGap),
    refused: running.result.refused,
    unanswered: running.result.unanswered,
    acknowledged: running.result.ids.length,
    acknowledgedLost: lost,
  };
  console.log(JSON.stringify(report));
  if (values.log) {
    for (const line of supervisor.output().split('\n')) {
      const entry = /"time":(\d+)/.exec(line);
      if (entry !== null && Number(entry[1]) >= fromWall - 100) console.log(line);
    }
  }
} finally {
  await supervisor?.stop();
  rmSync(dir, { recursive: true, force: true });
}
