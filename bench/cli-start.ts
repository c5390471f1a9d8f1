/**
 * `npm run bench:cli -- [--runs N] [--root DIR]`: how long the bins take to
 * start, against Node.js starting an empty script in the same run. Every variant runs N
 * times in turns (so that the machine's load falls on all of them alike) and the median
 * wall time is reported, with its ratio to bare Node.js. `--root` measures the build of
 * another tree (for example an older commit's, built there); `npx` is measured in this one only.
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, ROOT } from './procs.js';

const { values } = parseArgs({ options: { runs: { type: 'string' }, root: { type: 'string' } } });
const runs = Number(values.runs ?? '15');
if (!Number.isInteger(runs) || runs <= 0) {
  console.error('usage: npm run bench:cli -- [--runs N] [--root DIR]');
  process.exit(2);
}
const root = path.resolve(values.root ?? ROOT);
const workq = path.join(root, 'dist/src/cli/workq.js');
const workqServer = path.join(root, 'dist/src/cli/workq-server.js');

const port = await freePort();
const server = spawn(process.execPath, [workqServer, '-listen', `127.0.0.1:${port}`], { stdio: 'ignore' });
process.once('exit', () => server.kill('SIGKILL'));
await new Promise((resolve) => setTimeout(resolve, 1000));

const variants: { name: string; file: string; args: string[] }[] = [
  { name: 'node -e 0 (Node.js alone)', file: process.execPath, args: ['-e', '0'] },
  { name: 'workq --help', file: process.execPath, args: [workq, '--help'] },
  { name: 'workq inspect server (a command)', file: process.execPath, args: [workq, '--server', `127.0.0.1:${port}`, 'inspect', 'server'] },
  { name: 'workq-server --help', file: process.execPath, args: [workqServer, '--help'] },
  // npm's own start-up, the same for any package: measured in this checkout only.
  ...(root === ROOT ? [{ name: 'npx workq --help', file: 'npx', args: ['workq', '--help'] }] : []),
];

const samples = variants.map((variant) => ({ variant, times: [] as number[] }));
for (let run = 0; run < runs; run++) {
  for (const { variant, times } of samples) {
    const start = process.hrtime.bigint();
    const result = spawnSync(variant.file, variant.args, { cwd: root, stdio: 'pipe' });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (result.status !== 0) throw new Error(`${variant.name} exited with ${result.status}: ${result.stderr.toString()}`);
    times.push(ms);
  }
}
server.kill('SIGTERM');

function median(xs: number[]): number {
  const m = [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  if (m === undefined) throw new Error('median of no samples');
  return m;
}
// The first variant is Node.js alone, the base of every ratio.
const base = median(samples[0]?.times ?? []);
const lines = ['| variant | median ms | × Node.js alone | min–max ms |', '| --- | ---: | ---: | ---: |'];
for (const { variant, times } of samples) {
  const m = median(times);
  lines.push(`| ${variant.name} | ${m.toFixed(0)} | ${(m / base).toFixed(2)} | ${Math.min(...times).toFixed(0)}–${Math.max(...times).toFixed(0)} |`);
}
console.log(`${runs} runs of each, in turns, at ${root}\n${lines.join('\n')}`);
