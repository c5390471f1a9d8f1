/**
 * `npm run bench [-- --only add,cycle --jobs 200000 …]`: runs the selected workloads on
 * Workq-TS and beanstalkd side by side, prints a markdown table and writes it to
 * bench/results/latest.md. `--cpu-prof` instead profiles the Workq-TS server on the add
 * workload and writes bench/results/cpu-profile.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, beanstalkdVersion, snapshotLauncher, startWorkq, withNodeArgs, workqLauncher } from './procs.js';
import { selfTimeTable, topSelfTime } from './profile.js';
import { Pipeline, Tally, runLoad } from './loadgen.js';
import { markdownTable } from './table.js';
import { workqAdds } from './wire.js';
import { measureLatency } from './latency.js';
import { type BenchConfig, type Row, WORKLOADS, WORKLOAD_NAMES, cycleLoad } from './workloads.js';

const USAGE = `usage: npm run bench -- [options]
  --only LIST     workloads, comma-separated: ${WORKLOAD_NAMES.join(',')} (default: all)
  --jobs N        job count of every count-based workload (defaults: add 200000,
                  cycle 100000, memory 1000000, durability 200000, replay 1000000,
                  restart 1000, segments 2000)
  --rounds N      latency round trips (default 10000)
  --conns N       connections of the load generator (default 4)
  --depth P       requests in flight per connection (default 64)
  --workers N     worker connections of the cycle workload (default: --conns)
  --worker-depth D  leases each cycle worker keeps in flight (default 1)
  --seconds S     time bound of one measured load (default 10)
  --repeat R      measured runs per side of add, cycle, latency, durability; the
                  median is reported (default 3)
  --kills K       kill -9 restarts per side of the restart workload (default 11)
  --at REV        run the Workq-TS server as committed at REV (git archive), not
                  the working tree: for recorded runs while others edit src/
  --servers LIST  which servers to run: workq,beanstalkd (default: both)
  --node-args A   node arguments for the Workq-TS server, space-separated
                  (e.g. --node-args=--max-semi-space-size=1)
  --cpu-prof      profile the Workq-TS server instead, on the add workload or on
                  those of --only among add,cycle,latency (--jobs: adds and cycles,
                  default 1000000 and 300000; round trips, default 50000)
  --help`;

function positive(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`--${name} must be a positive integer, got ${text}\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    jobs: { type: 'string' },
    rounds: { type: 'string' },
    conns: { type: 'string' },
    depth: { type: 'string' },
    workers: { type: 'string' },
    'worker-depth': { type: 'string' },
    'node-args': { type: 'string' },
    seconds: { type: 'string' },
    repeat: { type: 'string' },
    kills: { type: 'string' },
    servers: { type: 'string' },
    at: { type: 'string' },
    'cpu-prof': { type: 'boolean' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const selected = (values.only ?? WORKLOAD_NAMES.join(',')).split(',').map((s) => s.trim());
for (const name of selected) {
  if (!(WORKLOAD_NAMES as readonly string[]).includes(name)) {
    console.error(`unknown workload "${name}"\n${USAGE}`);
    process.exit(2);
  }
}

const jobs = values.jobs === undefined ? undefined : positive(values.jobs, 0, 'jobs');
const startedAt = new Date().toISOString();
const loadAtStart = os.loadavg()[0]!.toFixed(2);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'workq-bench-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const servers = (values.servers ?? 'workq,beanstalkd').split(',').map((s) => s.trim());
const beanstalkd = servers.includes('beanstalkd') ? beanstalkdVersion() : null;
const chosen = !servers.includes('workq') ? null : values.at ? snapshotLauncher(values.at, mkdtempSync(path.join(tmp, 'snapshot-'))) : workqLauncher();
const launcher = chosen && values['node-args'] ? withNodeArgs(chosen, values['node-args'].split(' ').filter(Boolean)) : chosen;

const cfg: BenchConfig = {
  conns: positive(values.conns, 4, 'conns'),
  depth: positive(values.depth, 64, 'depth'),
  workers: positive(values.workers, positive(values.conns, 4, 'conns'), 'workers'),
  workerDepth: positive(values['worker-depth'], 1, 'worker-depth'),
  seconds: positive(values.seconds, 10, 'seconds'),
  jobs: {
    add: jobs ?? 200000,
    cycle: jobs ?? 100000,
    memory: jobs ?? 1000000,
    durability: jobs ?? 200000,
    replay: jobs ?? 1000000,
    restart: jobs ?? 1000,
    segments: jobs ?? 2000,
  },
  rounds: positive(values.rounds, 10000, 'rounds'),
  repeat: positive(values.repeat, 3, 'repeat'),
  kills: positive(values.kills, 11, 'kills'),
  workq: launcher,
  beanstalkd: beanstalkd !== null,
  tmp,
  log: (message) => console.error(`[bench] ${message}`),
};

if (!beanstalkd && servers.includes('beanstalkd')) {
  console.error('[bench] beanstalkd not found on PATH (Debian: apt-get install beanstalkd): the beanstalkd column stays empty.');
}
if (!launcher && servers.includes('workq')) {
  console.error('[bench] Workq-TS server not found (src/cli/workq-server.ts): the Workq-TS column stays empty.');
}

function cpuModel(): string {
  const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'latin1'));
  return match?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
}

/** The bench runs whatever src/ holds, committed or not: say which. */
function sourceState(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'latin1' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', 'src'], { cwd: ROOT, encoding: 'latin1' }).trim();
    const files = dirty ? execFileSync('git', ['diff', 'HEAD', '--', 'src'], { cwd: ROOT, encoding: 'latin1' }) : '';
    return dirty ? `${commit} plus uncommitted changes under src/ (diff of ${files.length} bytes)` : commit;
  } catch {
    return 'unknown (no git)';
  }
}

const sourceAtStart = sourceState();

function machine(): string {
  const sourceNow = sourceState();
  const source = sourceNow === sourceAtStart ? sourceNow : `CHANGED DURING THE RUN: ${sourceAtStart} at start, ${sourceNow} at end`;
  return [
    `- started: ${startedAt}`,
    `- command: \`npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\``,
    `- machine: ${os.availableParallelism()} CPUs (${cpuModel()}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}`,
    `- Node.js ${process.version}; ${beanstalkd ?? `beanstalkd: ${servers.includes('beanstalkd') ? 'not installed' : 'not run'}`}`,
    `- Workq-TS server: ${launcher?.how ?? (servers.includes('workq') ? 'not available' : 'not run')}${values.at ? '' : `, source ${source}`}`,
    `- load generator: ${cfg.conns} connections × ${cfg.depth} in flight, time bound ${cfg.seconds} s per measured load; cycle workers ${cfg.workers} × ${cfg.workerDepth} leases in flight, median of ${cfg.repeat} interleaved runs`,
    `- load average (1 min) at start ${loadAtStart}, at end ${os.loadavg()[0]!.toFixed(2)}`,
  ].join('\n');
}

/** The loads `--cpu-prof` can profile, each run once on the server under the profiler. */
const PROFILED: Record<string, { what: string; count: number; load: (port: number, n: number) => Promise<string> }> = {
  add: {
    what: 'the add workload',
    count: 1000000,
    load: async (port, n) => {
      const tally = new Tally(n);
      const convs = Array.from({ length: cfg.conns }, (_, i) => new Pipeline('workq', workqAdds(i, Math.ceil(n / cfg.conns)), cfg.depth, tally));
      const r = await runLoad(port, convs, tally, cfg.seconds * 3);
      return `${r.units} adds at ${Math.round(r.perSecond)} ops/s under the profiler`;
    },
  },
  cycle: {
    what: 'add→lease→complete cycles (workload 2)',
    count: 300000,
    load: async (port, n) => {
      const r = await cycleLoad('workq', port, n, { ...cfg, seconds: cfg.seconds * 3 }, 'prof');
      return `${r.units} cycles at ${Math.round(r.perSecond)} cycles/s under the profiler`;
    },
  },
  latency: {
    what: '`run` round trips (workload 3)',
    count: 50000,
    load: async (port, n) => {
      const r = await measureLatency('workq', port, n, cfg.seconds * 3, 'prof');
      return `${r.samples} round trips under the profiler, p50 ${r.p50us.toFixed(0)} µs, p99 ${r.p99us.toFixed(0)} µs`;
    },
  },
};

async function profileWorkloads(): Promise<void> {
  if (!launcher) {
    console.error('[bench] --cpu-prof needs the Workq-TS server.');
    process.exit(1);
  }
  const names = values.only === undefined ? ['add'] : selected;
  const texts: string[] = [];
  for (const name of names) {
    const profiled = PROFILED[name];
    if (profiled === undefined) {
      console.error(`[bench] --cpu-prof profiles ${Object.keys(PROFILED).join(', ')}, not ${name}`);
      process.exit(2);
    }
    const dir = path.join(ROOT, 'bench/results/prof', name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const server = await startWorkq(launcher, { cpuProfDir: dir });
    const done = await profiled.load(server.port, jobs ?? profiled.count);
    await server.stop();
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (tsx's
    // loader thread writes one too).
    const file = readdirSync(dir).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
    if (!file) {
      console.error('[bench] the server wrote no profile (it must exit by itself on SIGTERM).');
      process.exit(1);
    }
    const table = selfTimeTable(topSelfTime(path.join(dir, file), launcher.root, 25));
    texts.push(`## ${profiled.what}\n\n- load: ${done}\n\nTop self time (the whole server process, start-up and shutdown included):\n\n${table}\n`);
  }
  const text = `# CPU profile of the Workq-TS server\n\n${machine()}\n\n${texts.join('\n')}`;
  console.log(text);
  writeFileSync(path.join(ROOT, 'bench/results/cpu-profile.md'), text);
}

async function main(): Promise<void> {
  if (values['cpu-prof']) {
    await profileWorkloads();
    return;
  }
  const rows: Row[] = [];
  for (const name of WORKLOAD_NAMES) {
    if (selected.includes(name)) rows.push(...(await WORKLOADS[name](cfg)));
  }
  const text = `# Workq-TS vs beanstalkd\n\n${machine()}\n\n${markdownTable(rows)}\n`;
  console.log(text);
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(path.join(ROOT, 'bench/results/latest.md'), text);
}

await main();
