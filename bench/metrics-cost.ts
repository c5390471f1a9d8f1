/**
 * What the metrics cost the add path: workload 1 (pipelined adds) on three Workq-TS
 * servers, each run on fresh servers in rotating order, `--repeat` times, medians
 * reported. Besides adds per second of wall time it reports adds per second of the
 * server's own CPU time (/proc/PID/schedstat): the server is single-threaded and
 * CPU-bound here, so that is its throughput on a core of its own, and it is far less
 * disturbed by other load on a shared machine than the wall-clock rate.
 *
 * - before: the server as committed at `--base` (default: where this branch left main),
 *   which counts nothing;
 * - off: this tree, counters in place, no admin listener;
 * - on: this tree with `-admin-listen`, scraped on /metrics every `--scrape-ms` during
 *   the load (default 1000 ms: fifteen times Prometheus's default rate).
 *
 * All three run through tsx from their sources, so they differ only in the code.
 *
 *   node --import=tsx bench/metrics-cost.ts [--jobs 100000] [--repeat 5] [--scrape-ms 1000] [--base REV]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Pipeline, Tally, runLoad, type LoadResult } from './loadgen.js';
import { freePort, ROOT, snapshotLauncher, startWorkq, type ServerProc, type WorkqLauncher } from './procs.js';
import { workqAdds } from './wire.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '100000' },
    repeat: { type: 'string', default: '5' },
    'scrape-ms': { type: 'string', default: '1000' },
    base: { type: 'string' },
    conns: { type: 'string', default: '4' },
    depth: { type: 'string', default: '64' },
  },
});
const jobs = Number(values.jobs);
const repeat = Number(values.repeat);
const scrapeMs = Number(values['scrape-ms']);
const conns = Number(values.conns);
const depth = Number(values.depth);
const base = values.base ?? execFileSync('git', ['merge-base', 'HEAD', 'main'], { cwd: ROOT, encoding: 'latin1' }).trim();

function addLoad(port: number, count: number, queue: string): Promise<LoadResult> {
  const tally = new Tally(count);
  const per = Array.from({ length: conns }, (_, i) => Math.floor(count / conns) + (i < count % conns ? 1 : 0));
  return runLoad(
    port,
    per.map((n, i) => new Pipeline('workq', workqAdds(i, n, queue), depth, tally)),
    tally,
    600,
  );
}

interface Side {
  name: string;
  start: () => Promise<ServerProc>;
  admin: boolean;
  /** Adds per second of wall time, and adds per second of the server's own CPU time. */
  wall: number[];
  cpu: number[];
  scrapes: number;
}

/** CPU time the process has run, in seconds (/proc/PID/schedstat: nanosecond resolution). */
function cpuSeconds(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'latin1').split(' ')[0]) / 1e9;
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'workq-metrics-bench-'));
const here: WorkqLauncher = {
  how: 'tsx',
  args: ['--import=tsx', path.join(ROOT, 'src/cli/workq-server.ts')],
  supervisorArgs: ['--import=tsx', path.join(ROOT, 'supervisor/main.ts')],
  root: ROOT,
};
const before = snapshotLauncher(base, tmp);
let adminPort = 0;
const sides: Side[] = [
  { name: `before (${base.slice(0, 7)})`, start: () => startWorkq(before), admin: false, wall: [], cpu: [], scrapes: 0 },
  { name: 'off', start: () => startWorkq(here), admin: false, wall: [], cpu: [], scrapes: 0 },
  {
    name: 'on',
    start: async () => {
      adminPort = await freePort();
      return startWorkq(here, { extraArgs: ['-admin-listen', `127.0.0.1:${adminPort}`] });
    },
    admin: true,
    wall: [],
    cpu: [],
    scrapes: 0,
  },
];

/** Scrapes /metrics every scrapeMs until stopped, the first one at once. */
function scraping(side: Side): () => Promise<void> {
  if (!side.admin) return () => Promise.resolve();
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const body = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
      if (!body.includes('workq_jobs')) throw new Error('scrape without workq_jobs');
      side.scrapes++;
      await new Promise((resolve) => setTimeout(resolve, scrapeMs));
    }
  })();
  return async () => {
    stop = true;
    await loop;
  };
}

try {
  for (let run = 0; run < repeat; run++) {
    // Each run on fresh servers, in a rotating order, so no side always goes first.
    for (let k = 0; k < sides.length; k++) {
      const side = sides[(run + k) % sides.length]!;
      const proc = await side.start();
      try {
        await addLoad(proc.port, Math.min(20000, jobs), 'warm');
        const stopScraping = scraping(side);
        const cpu0 = cpuSeconds(proc.pid);
        const result = await addLoad(proc.port, jobs, 'q');
        const cpu = cpuSeconds(proc.pid) - cpu0;
        await stopScraping();
        if (result.errors > 0 || result.closedEarly) throw new Error(`${side.name}: ${result.errors} errors`);
        side.wall.push(result.perSecond);
        side.cpu.push(jobs / cpu);
        console.error(`run ${run + 1}/${repeat} ${side.name}: ${Math.round(result.perSecond)} adds/s, ${Math.round(jobs / cpu)} adds per CPU-second`);
      } finally {
        await proc.stop();
      }
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor((list.length - 1) / 2)]!;
const offCpu = median(sides[1]!.cpu);
const offWall = median(sides[1]!.wall);
const n = (v: number): string => Math.round(v).toLocaleString('en-US');
console.log(`| side | adds per server CPU-second (median of ${repeat}) | vs off | adds/s wall (median) | vs off | CPU runs |`);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const side of sides) {
  const extra = side.admin ? `; ${side.scrapes} scrapes, one every ${scrapeMs} ms` : '';
  console.log(
    `| ${side.name} | ${n(median(side.cpu))} | ${(median(side.cpu) / offCpu).toFixed(3)} | ${n(median(side.wall))} | ${(median(side.wall) / offWall).toFixed(3)} | ${side.cpu.map(n).join(' / ')}${extra} |`,
  );
}
