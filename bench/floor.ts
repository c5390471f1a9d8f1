/**
 * What part of the latency and cycle figures is Node's own: `node --import=tsx
 * bench/floor.ts [--rounds N] [--jobs N] [--repeat R] [--only run,hop,cycle] [--base DIR]`.
 * Side by side, in alternating rounds, each group on fresh processes:
 *
 * - `run`: two-connection round trips (workload 3): the Workq-TS server's `run`; the same
 *   client against bench/relay-server.ts (Node relaying canned replies, nothing else);
 *   beanstalkd's put → reserve → delete;
 * - `hop`: one-connection round trips: a bare Node `+OK` responder (bench/relay-server.ts
 *   echo), beanstalkd answering `use`, Workq-TS answering `delete` of an unknown ID;
 * - `cycle`: workload 2 with 4 synchronous workers (one lease each) against the three, with
 *   the CPU time each server process used per cycle (user and system, all threads, from
 *   /proc/PID/stat): the relay's system time is the kernel's share of the socket path, and
 *   its user time is Node's, so what the Workq-TS server uses beyond the relay is its own.
 *
 * `--base DIR` adds, in each group, the Workq-TS server built under DIR (its `dist/`, after
 * `npx tsc -p tsconfig.json` there; e.g. a `git archive` of another commit) as a side of its own.
 *
 * Reports the medians (p50 and p99 of the round trips; cycles/s) and the ratios to beanstalkd.
 */
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { measureLatency } from './latency.js';
import { cycleLoad } from './workloads.js';
import {
  type CpuTimes,
  ROOT,
  type ServerProc,
  type WorkqLauncher,
  beanstalkdVersion,
  freePort,
  launchScript,
  startBeanstalkd,
  startWorkq,
  workqLauncher,
} from './procs.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string' }, jobs: { type: 'string' }, repeat: { type: 'string' }, only: { type: 'string' }, base: { type: 'string' } },
});
const rounds = Number(values.rounds ?? '10000');
const jobs = Number(values.jobs ?? '100000');
const repeat = Number(values.repeat ?? '5');
const only = (values.only ?? 'run,hop,cycle').split(',');

/** One line out, one line back, `rounds` times after a warm-up; p50 and p99 in µs. */
function ping(port: number, request: Buffer, count: number): Promise<{ p50: number; p99: number }> {
  return new Promise((resolve, reject) => {
    const warm = Math.min(1000, Math.floor(count / 10));
    const times = new Float64Array(count);
    let n = -warm;
    let t0 = 0;
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    const send = (): void => {
      t0 = performance.now();
      socket.write(request);
    };
    socket.on('connect', send);
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      if (chunk.indexOf(10) < 0) return;
      const t = performance.now() - t0;
      if (n >= 0) times[n] = t;
      n += 1;
      if (n < count) {
        send();
        return;
      }
      socket.destroy();
      const sorted = times.sort();
      resolve({ p50: sorted[Math.floor(0.5 * count)]! * 1000, p99: sorted[Math.floor(0.99 * count)]! * 1000 });
    });
  });
}

/** p99 is NaN for a throughput figure; `cpu` is the server's CPU per cycle, for the cycle group. */
interface Figure {
  p50: number;
  p99: number;
  cpu?: CpuTimes;
}

interface Side {
  label: string;
  start: () => Promise<ServerProc>;
  measure: (proc: ServerProc, run: number) => Promise<Figure>;
}

const launcher = workqLauncher();
if (launcher === null || beanstalkdVersion() === null) {
  console.error('needs the Workq-TS server and beanstalkd');
  process.exit(1);
}
const baseRoot = values.base === undefined ? null : path.resolve(values.base);
const baseLauncher: WorkqLauncher | null =
  baseRoot === null
    ? null
    : {
        how: `node ${baseRoot}/dist/src/cli/workq-server.js`,
        args: [path.join(baseRoot, 'dist/src/cli/workq-server.js')],
        supervisorArgs: [path.join(baseRoot, 'dist/supervisor/main.js')],
        root: path.join(baseRoot, 'dist'),
      };
/** The base tree's side of a group, when there is one. */
const baseSide = (label: string, measure: Side['measure']): Side[] =>
  baseLauncher === null ? [] : [{ label: `${label} (base)`, start: () => startWorkq(baseLauncher), measure }];
const relay = (mode: string) => async (): Promise<ServerProc> => {
  const port = await freePort();
  return launchScript(`node ${mode}`, path.join(ROOT, 'bench/relay-server.ts'), [String(port), mode], port, Buffer.from('x\r\n'));
};
const twoConn =
  (protocol: 'workq' | 'beanstalk') =>
  async ({ port }: ServerProc, run: number) => {
    const r = await measureLatency(protocol, port, rounds, 60, `floor${run}`);
    if (r.errors > 0) throw new Error(`${r.errors} errors`);
    return { p50: r.p50us, p99: r.p99us };
  };
const cycles = (protocol: 'workq' | 'beanstalk') => async (proc: ServerProc, run: number) => {
  const before = proc.cpu();
  const r = await cycleLoad(protocol, proc.port, jobs, { conns: 4, depth: 64, seconds: 60, workers: 4, workerDepth: 1 }, `floorcyc${run}`);
  const after = proc.cpu();
  if (r.errors > 0 || r.closedEarly) throw new Error(`${r.errors} errors`);
  return { p50: r.perSecond, p99: Number.NaN, cpu: { user: (after.user - before.user) / r.units, sys: (after.sys - before.sys) / r.units } };
};
const UNKNOWN_DELETE = Buffer.from('delete 00000000-0000-4000-8000-000000000000\r\n');

const groups: { name: string; title: string; unit: string; sides: Side[] }[] = [
  {
    name: 'run',
    unit: 'µs',
    title: 'two connections: run (workq) / put-reserve-delete (beanstalkd)',
    sides: [
      { label: 'Workq-TS run', start: () => startWorkq(launcher), measure: twoConn('workq') },
      ...baseSide('Workq-TS run', twoConn('workq')),
      { label: 'Node relay (run)', start: relay('relay'), measure: twoConn('workq') },
      { label: 'beanstalkd', start: () => startBeanstalkd(), measure: twoConn('beanstalk') },
    ],
  },
  {
    name: 'hop',
    unit: 'µs',
    title: 'one connection, one line each way',
    sides: [
      { label: 'Workq-TS delete (unknown ID)', start: () => startWorkq(launcher), measure: ({ port }) => ping(port, UNKNOWN_DELETE, rounds) },
      ...baseSide('Workq-TS delete (unknown ID)', ({ port }) => ping(port, UNKNOWN_DELETE, rounds)),
      { label: 'Node echo', start: relay('echo'), measure: ({ port }) => ping(port, Buffer.from('x\r\n'), rounds) },
      { label: 'beanstalkd use', start: () => startBeanstalkd(), measure: ({ port }) => ping(port, Buffer.from('use q\r\n'), rounds) },
    ],
  },
  {
    name: 'cycle',
    unit: 'cycles/s',
    title: `add→lease→complete cycles, 4 workers × 1 lease, ${jobs} jobs per run`,
    sides: [
      { label: 'Workq-TS', start: () => startWorkq(launcher), measure: cycles('workq') },
      ...baseSide('Workq-TS', cycles('workq')),
      { label: 'Node relay', start: relay('relay'), measure: cycles('workq') },
      { label: 'beanstalkd', start: () => startBeanstalkd(), measure: cycles('beanstalk') },
    ],
  },
];

const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor((list.length - 1) / 2)]!;
const lines: string[] = [
  `load average at start ${os.loadavg()[0]!.toFixed(2)}; ${rounds} rounds per run, median of ${repeat} alternating runs; Workq-TS: ${launcher.how}${baseLauncher === null ? '' : `, base: ${baseLauncher.how}`}`,
  '',
];
for (const group of groups.filter((g) => only.includes(g.name))) {
  const procs = await Promise.all(group.sides.map((s) => s.start()));
  const p50 = group.sides.map(() => [] as number[]);
  const p99 = group.sides.map(() => [] as number[]);
  const user = group.sides.map(() => [] as number[]);
  const sys = group.sides.map(() => [] as number[]);
  try {
    for (let i = 0; i < group.sides.length; i++) await group.sides[i]!.measure(procs[i]!, 100);
    for (let run = 0; run < repeat; run++) {
      for (let i = 0; i < group.sides.length; i++) {
        const r = await group.sides[i]!.measure(procs[i]!, run);
        p50[i]!.push(r.p50);
        p99[i]!.push(r.p99);
        const cpu = r.cpu === undefined ? '' : `, server CPU per cycle ${(r.cpu.user * 1e6).toFixed(1)} µs user + ${(r.cpu.sys * 1e6).toFixed(1)} µs sys`;
        if (r.cpu !== undefined) {
          user[i]!.push(r.cpu.user * 1e6);
          sys[i]!.push(r.cpu.sys * 1e6);
        }
        console.error(
          `${group.sides[i]!.label} run ${run + 1}: ${r.p50.toFixed(1)} ${group.unit}${Number.isNaN(r.p99) ? '' : `, p99 ${r.p99.toFixed(1)}`}${cpu}`,
        );
      }
    }
  } finally {
    for (const p of procs) await p.stop();
  }
  lines.push(`load average at the end of the group ${os.loadavg()[0]!.toFixed(2)}`, '');
  const peer = group.sides.length - 1;
  const latency = group.unit === 'µs';
  lines.push(`${group.title}:`, '');
  lines.push(
    latency
      ? '| side | p50 µs | p99 µs | p50 / beanstalkd | p99 / beanstalkd | p50 runs |'
      : '| side | cycles/s | / beanstalkd | server CPU µs per cycle, user + sys | runs |',
  );
  lines.push(latency ? '| --- | ---: | ---: | ---: | ---: | --- |' : '| --- | ---: | ---: | ---: | --- |');
  for (let i = 0; i < group.sides.length; i++) {
    const a = median(p50[i]!);
    const b = median(p99[i]!);
    const runs = p50[i]!.map((x) => x.toFixed(latency ? 1 : 0)).join(' / ');
    const label = group.sides[i]!.label;
    if (latency)
      lines.push(
        `| ${label} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(a / median(p50[peer]!)).toFixed(2)} | ${(b / median(p99[peer]!)).toFixed(2)} | ${runs} |`,
      );
    else {
      const cpu = `${median(user[i]!).toFixed(1)} + ${median(sys[i]!).toFixed(1)}`;
      lines.push(`| ${label} | ${a.toFixed(0)} | ${(a / median(p50[peer]!)).toFixed(2)} | ${cpu} | ${runs} |`);
    }
  }
  lines.push('');
}
console.log(lines.join('\n'));
