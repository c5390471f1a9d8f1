/**
 * What the metrics cost the add path: workload 1 (pipelined adds) on three Workq-TS
 * servers measured in turns, `--repeat` times each, median reported:
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
import { mkdtempSync, rmSync } from 'node:fs';
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
  return runLoad(port, per.map((n, i) => new Pipeline('workq', workqAdds(i, n, queue), depth, tally)), tally, 600);
}

interface Side {
  name: string;
  proc: ServerProc;
  adminPort: number | null;
  runs: number[];
  scrapes: number;
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'workq-metrics-bench-'));
const here: WorkqLauncher = { how: 'tsx', args: ['--import=tsx', path.join(ROOT, 'src/cli/workq-server.ts')], root: ROOT };
const before = snapshotLauncher(base, tmp);
const adminPort = await freePort();
const sides: Side[] = [
  { name: `before (${base.slice(0, 7)})`, proc: await startWorkq(before), adminPort: null, runs: [], scrapes: 0 },
  { name: 'off', proc: await startWorkq(here), adminPort: null, runs: [], scrapes: 0 },
  { name: 'on', proc: await startWorkq(here, { extraArgs: ['-admin-listen', `127.0.0.1:${adminPort}`] }), adminPort, runs: [], scrapes: 0 },
];

/** Scrapes /metrics every scrapeMs until stopped; returns the number of scrapes. */
function scraping(side: Side): () => Promise<void> {
  if (side.adminPort === null) return async () => undefined;
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const body = await (await fetch(`http://127.0.0.1:${side.adminPort}/metrics`)).text();
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
  for (const side of sides) await addLoad(side.proc.port, Math.min(20000, jobs), 'warm');
  for (let run = 0; run < repeat; run++) {
    for (const side of sides) {
      const stopScraping = scraping(side);
      const result = await addLoad(side.proc.port, jobs, `q${run}`);
      await stopScraping();
      if (result.errors > 0 || result.closedEarly) throw new Error(`${side.name}: ${result.errors} errors`);
      side.runs.push(result.perSecond);
      console.error(`run ${run + 1}/${repeat} ${side.name}: ${Math.round(result.perSecond)} adds/s`);
    }
  }
} finally {
  for (const side of sides) await side.proc.stop();
  rmSync(tmp, { recursive: true, force: true });
}

const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor((list.length - 1) / 2)]!;
const off = median(sides[1]!.runs);
console.log(`| side | adds/s (median of ${repeat}) | vs off | runs |`);
console.log('| --- | --- | --- | --- |');
for (const side of sides) {
  const m = median(side.runs);
  const extra = side.adminPort === null ? '' : `; ${side.scrapes} scrapes, one every ${scrapeMs} ms`;
  console.log(`| ${side.name} | ${Math.round(m).toLocaleString('en-US')} | ${(m / off).toFixed(3)} | ${side.runs.map((v) => Math.round(v).toLocaleString('en-US')).join(' / ')}${extra} |`);
}
