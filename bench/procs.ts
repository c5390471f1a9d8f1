/**
 * Server processes under test: Workq-TS, beanstalkd and the null responder, each in its
 * own process on 127.0.0.1 and a free port, so the load generator never shares their
 * event loop.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface ServerProc {
  readonly label: string;
  readonly port: number;
  readonly pid: number;
  /** Milliseconds from spawn until the server answered its first request. */
  readonly readyMs: number;
  /** Resident set size in bytes (VmRSS of /proc/PID/status). */
  rss(): number;
  /** Graceful stop (SIGTERM), SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

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

/** True once a connection is accepted and `probe` gets at least one byte back. */
function answers(port: number, probe: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => socket.write(probe));
    socket.once('data', () => done(true));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

function readRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const at = status.indexOf('VmRSS:');
  if (at < 0) return Number.NaN;
  return Number.parseInt(status.slice(at + 6).trim(), 10) * 1024;
}

interface SpawnSpec {
  label: string;
  command: string;
  args: string[];
  port: number;
  probe: Buffer;
  timeoutMs: number;
}

async function launch(spec: SpawnSpec): Promise<ServerProc> {
  const started = performance.now();
  const child = spawn(spec.command, spec.args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      live.delete(child);
      resolve();
    });
  });
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = started + spec.timeoutMs;
  for (;;) {
    if (gone) throw new Error(`${spec.label} exited during start-up: ${stderr.trim() || '(no output)'}`);
    if (await answers(spec.port, spec.probe)) break;
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${spec.label} did not answer within ${spec.timeoutMs} ms: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const readyMs = performance.now() - started;
  return {
    label: spec.label,
    port: spec.port,
    pid: child.pid!,
    readyMs,
    rss: () => readRss(child.pid!),
    async stop(graceMs = 60000) {
      if (gone) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function beanstalkdVersion(): string | null {
  try {
    return execFileSync('beanstalkd', ['-v'], { encoding: 'latin1' }).trim();
  } catch {
    return null;
  }
}

export interface BeanstalkdOptions {
  /** Binlog directory (`-b`); none keeps jobs in memory only. */
  dir?: string;
  /** `-f MS`: fsync at most every MS ms, 0 = after every write. */
  fsyncMs?: number;
  timeoutMs?: number;
}

export async function startBeanstalkd(opts: BeanstalkdOptions = {}): Promise<ServerProc> {
  const port = await freePort();
  const args = ['-l', '127.0.0.1', '-p', String(port)];
  if (opts.dir) args.push('-b', opts.dir);
  if (opts.fsyncMs !== undefined) args.push('-f', String(opts.fsyncMs));
  return launch({
    label: 'beanstalkd',
    command: 'beanstalkd',
    args,
    port,
    probe: Buffer.from('list-tubes\r\n'),
    timeoutMs: opts.timeoutMs ?? 10000,
  });
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** How to start the Workq-TS server, or null while there is no server to start. */
export interface WorkqLauncher {
  readonly how: string;
  readonly args: string[];
  /** The directory holding the server's src/. */
  readonly root: string;
}

/** Prefers the built CLI when it is newer than every source file, else the CLI through tsx. */
export function workqLauncher(): WorkqLauncher | null {
  const built = path.join(ROOT, 'dist/src/cli/workq-server.js');
  const cli = path.join(ROOT, 'src/cli/workq-server.ts');
  if (existsSync(built) && statSync(built).mtimeMs >= newestMtime(path.join(ROOT, 'src'))) {
    return { how: 'node dist/src/cli/workq-server.js', args: [built], root: path.join(ROOT, 'dist') };
  }
  if (existsSync(cli)) {
    return { how: 'node --import=tsx src/cli/workq-server.ts', args: ['--import=tsx', cli], root: ROOT };
  }
  return null;
}

/**
 * The server as committed at `rev`, extracted to `dir` (`git archive`), so a recorded run
 * is not disturbed by edits to the working tree while it runs.
 */
export function snapshotLauncher(rev: string, dir: string): WorkqLauncher {
  const commit = execFileSync('git', ['rev-parse', '--short', rev], { cwd: ROOT, encoding: 'latin1' }).trim();
  const archive = execFileSync('git', ['archive', '--format=tar', commit], {
    cwd: ROOT,
    maxBuffer: 1 << 30,
  });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return {
    how: `node --import=tsx src/cli/workq-server.ts of commit ${commit} (git archive)`,
    args: ['--import=tsx', path.join(dir, 'src/cli/workq-server.ts')],
    root: dir,
  };
}

export interface WorkqOptions {
  dir?: string;
  sync?: 'always' | 'interval' | 'os';
  /** Directory for a `--cpu-prof` profile of the server process. */
  cpuProfDir?: string;
  timeoutMs?: number;
  /** More flags for the server (e.g. -admin-listen). */
  extraArgs?: string[];
}

export async function startWorkq(launcher: WorkqLauncher, opts: WorkqOptions = {}): Promise<ServerProc> {
  const port = await freePort();
  const nodeArgs = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : [];
  const args = [...nodeArgs, ...launcher.args, '-listen', `127.0.0.1:${port}`];
  if (opts.dir) args.push('-cmdlog-path', opts.dir);
  if (opts.dir && opts.sync) args.push('-cmdlog-sync', opts.sync);
  if (opts.extraArgs) args.push(...opts.extraArgs);
  return launch({
    label: 'workq',
    command: process.execPath,
    args,
    port,
    probe: Buffer.from('inspect server\r\n'),
    timeoutMs: opts.timeoutMs ?? 30000,
  });
}

export async function startNull(linesPerReply: number): Promise<ServerProc> {
  const port = await freePort();
  return launch({
    label: 'null',
    command: process.execPath,
    args: ['--import=tsx', path.join(ROOT, 'bench/null-server.ts'), String(port), String(linesPerReply)],
    port,
    probe: Buffer.from('x\r\nx\r\n'),
    timeoutMs: 10000,
  });
}
