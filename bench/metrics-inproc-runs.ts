/**
 * Runs bench/metrics-inproc.ts in fresh processes, in turns: `before` (the tree as
 * committed at --base, default where this branch left main), `off` (this tree, nothing
 * scraping) and `on` (this tree, its registry scraped every --scrape-ms), --repeat
 * times each; prints medians of adds per CPU-second and their ratios to `off`. With
 * --scrape-base (for a base that has the metrics) a fourth side scrapes the base tree
 * too, which puts the scrape of two versions side by side.
 *
 *   node --import=tsx bench/metrics-inproc-runs.ts [--repeat 9] [--jobs 300000] [--scrape-ms 1000] [--base REV] [--scrape-base]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, snapshotLauncher } from './procs.js';

const { values } = parseArgs({
  options: {
    repeat: { type: 'string', default: '9' },
    jobs: { type: 'string', default: '300000' },
    'scrape-ms': { type: 'string', default: '1000' },
    base: { type: 'string' },
    'scrape-base': { type: 'boolean', default: false },
  },
});
const repeat = Number(values.repeat);
const base = values.base ?? execFileSync('git', ['merge-base', 'HEAD', 'main'], { cwd: ROOT, encoding: 'latin1' }).trim();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'workq-metrics-inproc-'));
snapshotLauncher(base, tmp);

const sides = [
  { name: `before (${base.slice(0, 7)})`, args: [tmp] },
  { name: 'off', args: [ROOT] },
  { name: `on (scraped every ${values['scrape-ms']} ms)`, args: [ROOT, '--scrape-ms', values['scrape-ms']] },
  ...(values['scrape-base']
    ? [{ name: `before (${base.slice(0, 7)}), scraped every ${values['scrape-ms']} ms`, args: [tmp, '--scrape-ms', values['scrape-ms']] }]
    : []),
].map((side) => ({ ...side, rates: [] as number[] }));

try {
  for (let run = 0; run < repeat; run++) {
    for (let k = 0; k < sides.length; k++) {
      const side = sides[(run + k) % sides.length]!;
      const out = execFileSync(process.execPath, ['--import=tsx', path.join(ROOT, 'bench/metrics-inproc.ts'), ...side.args, '--jobs', values.jobs], {
        cwd: ROOT,
        encoding: 'latin1',
      });
      const rate = (JSON.parse(out.trim().split('\n').at(-1)!) as { addsPerCpuSecond: number }).addsPerCpuSecond;
      side.rates.push(rate);
      console.error(`run ${run + 1}/${repeat} ${side.name}: ${Math.round(rate)} adds per CPU-second`);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor((list.length - 1) / 2)]!;
const off = median(sides[1]!.rates);
const n = (v: number): string => Math.round(v).toLocaleString('en-US');
console.log(`| side | adds per CPU-second (median of ${repeat}) | vs off | runs |`);
console.log('| --- | --- | --- | --- |');
for (const side of sides)
  console.log(`| ${side.name} | ${n(median(side.rates))} | ${(median(side.rates) / off).toFixed(3)} | ${side.rates.map(n).join(' / ')} |`);
