/**
 * Server processes under test: Workq-TS, beanstalkd and the null responder, each in its
 * own process on 127.0.0.1 and a free port, so the load generator never shares their
 * event loop.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** What the bench asks a Workq-TS server to see that it serves. */
export const WORKQ_PROBE = Buffer.from('inspect server\r\n');

export interface ServerProc {
  readonly label: string;
  readonly port: number;
  readonly pid: number;
  /** Milliseconds from spawn until the server answered its first request. */
  readonly readyMs: number;
  /** Resident set size in bytes (VmRSS of /proc/PID/status). */
  rss(): number;
  /** CPU time the process (all its threads) has used so far, in seconds. */
  cpu(): CpuTimes;
  /** Graceful stop (SIGTERM), SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void>;
  /** The process's output so far (stdout and stderr, last 64 KiB). */
  output(): string;
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

export interface CpuTimes {
  user: number;
  sys: number;
}

/** utime and stime of /proc/PID/stat: every thread of the process, in clock ticks (USER_HZ, 100 on Linux). */
export function readCpuTimes(pid: number): CpuTimes {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // "pid (comm) S ppid …": fields after the last ')' start at field 3; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / 100, sys: Number(fields[12]) / 100 };
}

interface SpawnSpec {
  label: string;
  command: string;
  args: string[];
  port: number;
  probe: Buffer;
  timeoutMs: number;
}

/** Polls until `port` answers `probe`; throws when `gone()` turns true or after `timeoutMs`. */
export async function untilAnswers(port: number, probe: Buffer, timeoutMs: number, gone: () => string | null = () => null): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const why = gone();
    if (why !== null) throw new Error(why);
    if (await answers(port, probe)) return;
    if (performance.now() > deadline) throw new Error(`port ${port} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const OUTPUT_KEPT = 65536;

function spawnTracked(command: string, args: string[], cwd = ROOT): { child: ChildProcess; output: () => string; exitCode: Promise<number | null> } {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-OUTPUT_KEPT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exitCode = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    });
  });
  return { child, output: () => output, exitCode };
}

async function launch(spec: SpawnSpec): Promise<ServerProc> {
  const started = performance.now();
  const { child, output, exitCode } = spawnTracked(spec.command, spec.args);
  let gone = false;
  void exitCode.then(() => {
    gone = true;
  });
  try {
    await untilAnswers(spec.port, spec.probe, spec.timeoutMs, () => (gone ? 'exited during start-up' : null));
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${spec.label}: ${(err as Error).message}: ${output().trim().slice(-4000) || '(no output)'}`, { cause: err });
  }
  const readyMs = performance.now() - started;
  return {
    label: spec.label,
    port: spec.port,
    pid: child.pid!,
    readyMs,
    rss: () => readRss(child.pid!),
    cpu: () => readCpuTimes(child.pid!),
    async stop(graceMs = 60000) {
      if (gone) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exitCode;
      clearTimeout(timer);
    },
    async kill() {
      child.kill('SIGKILL');
      await exitCode;
    },
    output,
  };
}

/** Spawns a process that is expected to exit by itself (a refused start) and resolves with its exit code, output and time. */
export async function runToExit(command: string, args: string[]): Promise<{ code: number | null; ms: number; output: string }> {
  const started = performance.now();
  const { output, exitCode } = spawnTracked(command, args);
  const code = await exitCode;
  return { code, ms: performance.now() - started, output: output() };
}

export function beanstalkdVersion(): string | null {
  try {
    return execFileSync('beanstalkd', ['-v'], { encoding: 'latin1' }).trim();
  } catch {
    return null;
  }
}

export interface BeanstalkdOptions {
  /** Listen here instead of on a free port. */
  port?: number;
  /** Binlog directory (`-b`); none keeps jobs in memory only. */
  dir?: string;
  /** `-f MS`: fsync at most every MS ms, 0 = after every write. */
  fsyncMs?: number;
  timeoutMs?: number;
}

export function beanstalkdArgs(port: number, opts: BeanstalkdOptions = {}): string[] {
  const args = ['-l', '127.0.0.1', '-p', String(port)];
  if (opts.dir) args.push('-b', opts.dir);
  if (opts.fsyncMs !== undefined) args.push('-f', String(opts.fsyncMs));
  return args;
}

export async function startBeanstalkd(opts: BeanstalkdOptions = {}): Promise<ServerProc> {
  const port = opts.port ?? (await freePort());
  const args = beanstalkdArgs(port, opts);
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
  /** The same for the supervisor (node:cluster primary; its children run with the same node arguments). */
  readonly supervisorArgs: string[];
  /** The directory holding the server's src/. */
  readonly root: string;
}

/** Prefers the built CLI when it is newer than every source file, else the CLI through tsx. */
export function workqLauncher(): WorkqLauncher | null {
  const built = path.join(ROOT, 'dist/src/cli/workq-server.js');
  const cli = path.join(ROOT, 'src/cli/workq-server.ts');
  const newestSource = Math.max(newestMtime(path.join(ROOT, 'src')), newestMtime(path.join(ROOT, 'supervisor')));
  if (existsSync(built) && statSync(built).mtimeMs >= newestSource) {
    return {
      how: 'node dist/src/cli/workq-server.js',
      args: [built],
      supervisorArgs: [path.join(ROOT, 'dist/supervisor/main.js')],
      root: path.join(ROOT, 'dist'),
    };
  }
  if (existsSync(cli)) {
    return {
      how: 'node --import=tsx src/cli/workq-server.ts',
      args: ['--import=tsx', cli],
      supervisorArgs: ['--import=tsx', path.join(ROOT, 'supervisor/main.ts')],
      root: ROOT,
    };
  }
  return null;
}

/** The same launcher with node arguments before the script, for the server and the supervisor alike. */
export function withNodeArgs(launcher: WorkqLauncher, nodeArgs: string[]): WorkqLauncher {
  return {
    how: `node ${nodeArgs.join(' ')} ${launcher.how.replace(/^node /, '')}`,
    args: [...nodeArgs, ...launcher.args],
    supervisorArgs: [...nodeArgs, ...launcher.supervisorArgs],
    root: launcher.root,
  };
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
    supervisorArgs: ['--import=tsx', path.join(dir, 'supervisor/main.ts')],
    root: dir,
  };
}

export interface WorkqOptions {
  /** Listen here instead of on a free port. */
  port?: number;
  dir?: string;
  sync?: 'always' | 'interval' | 'os';
  /** `-cmdlog-seg-size`; the server's default when undefined. */
  segmentSize?: number;
  /** Directory for a `--cpu-prof` profile of the server process. */
  cpuProfDir?: string;
  timeoutMs?: number;
  /** More flags for the server (e.g. -admin-listen). */
  extraArgs?: string[];
}

export function workqArgs(launcher: WorkqLauncher, port: number, opts: WorkqOptions = {}): string[] {
  const nodeArgs = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : [];
  const args = [...nodeArgs, ...launcher.args, '-listen', `127.0.0.1:${port}`];
  if (opts.dir) args.push('-cmdlog-path', opts.dir);
  if (opts.dir && opts.sync) args.push('-cmdlog-sync', opts.sync);
  if (opts.dir && opts.segmentSize !== undefined) args.push('-cmdlog-seg-size', String(opts.segmentSize));
  if (opts.extraArgs) args.push(...opts.extraArgs);
  return args;
}

export async function startWorkq(launcher: WorkqLauncher, opts: WorkqOptions = {}): Promise<ServerProc> {
  const port = opts.port ?? (await freePort());
  const args = workqArgs(launcher, port, opts);
  return launch({
    label: 'workq',
    command: process.execPath,
    args,
    port,
    probe: WORKQ_PROBE,
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

/** A bench script of this directory run as its own server process (`node --import=tsx FILE ARGS`). */
export function launchScript(label: string, file: string, args: string[], port: number, probe: Buffer): Promise<ServerProc> {
  return launch({ label, command: process.execPath, args: ['--import=tsx', file, ...args], port, probe, timeoutMs: 10000 });
}

/** Node's own floor for a restart: `node -e` of a bare net server that greets each connection. */
export async function startNodeFloor(port: number): Promise<ServerProc> {
  return launch({
    label: 'node -e',
    command: process.execPath,
    args: ['-e', `require('node:net').createServer((s) => s.end('x')).listen(${port}, '127.0.0.1')`],
    port,
    probe: Buffer.from('\r\n'),
    timeoutMs: 10000,
  });
}

export interface SupervisorProc {
  readonly port: number;
  /** The pid of the child serving the instance, as its latest 'server ready' line says. */
  childPid(): number | null;
  /** Resolves once a child other than `previous` reported ready. */
  nextChild(previous: number, timeoutMs?: number): Promise<number>;
  /** The supervisor's output with its children's log lines (the last 64 KiB). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * The supervisor with one instance on `port` and `dir`, from `configDir/workq.json`;
 * resolves once the instance serves. `supervisor` settings are merged into the config.
 */
export async function startSupervisor(
  launcher: WorkqLauncher,
  configDir: string,
  port: number,
  dir: string,
  supervisor: Record<string, unknown>,
  /** More settings of the instance (a `tls` section, say). */
  instance: Record<string, unknown> = {},
): Promise<SupervisorProc> {
  const configFile = path.join(configDir, 'workq.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      instances: [{ name: 'restart', port, cmdlog: { path: dir, sync: 'interval' }, ...instance }],
      supervisor: { controlSocket: path.join(configDir, 'control.sock'), ...supervisor },
    }),
  );
  const { child, output, exitCode } = spawnTracked(process.execPath, [...launcher.supervisorArgs, '--config', configFile], configDir);
  let gone = false;
  void exitCode.then(() => {
    gone = true;
  });
  // The output kept is its last 64 KiB, so its first line may be cut: only whole JSON lines count.
  const readyPids = (): number[] =>
    output()
      .split('\n')
      .filter((line) => line.startsWith('{') && line.includes('"server ready"'))
      .map((line) => Number((JSON.parse(line) as { childPid?: number }).childPid));
  const proc: SupervisorProc = {
    port,
    output,
    childPid: () => readyPids().at(-1) ?? null,
    async nextChild(previous, timeoutMs = 30000) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const pid = proc.childPid();
        if (pid !== null && pid !== previous) return pid;
        if (gone || performance.now() > deadline) throw new Error(`no new supervised child reported ready: ${output().slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop() {
      if (gone) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
      await exitCode;
      clearTimeout(timer);
    },
  };
  try {
    await proc.nextChild(0);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return proc;
}

/** Resolves once `pid` is dead (gone, or a zombie its parent has not reaped yet): its sockets are closed by then. */
export async function untilDead(pid: number): Promise<void> {
  for (;;) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    } catch {
      return;
    }
    // "pid (comm) S …": the state follows the last ')' (comm may hold spaces and parentheses).
    if (stat[stat.lastIndexOf(')') + 2] === 'Z') return;
    await new Promise((r) => setTimeout(r, 1));
  }
}
