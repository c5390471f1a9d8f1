/**
 * `node --import=tsx bench/replay-segments.ts [--at REV] [--segments N] [--runs R]`:
 * opens (replays) a log of N one-record segments, as `-cmdlog-seg-size 15` writes it,
 * in this process, R times, and reports the median time: the per-segment cost of replay
 * without Node.js start-up, which on a busy machine drowns it in workload 8. With
 * `--at REV` the server as committed at REV (git archive) opens the same log in turns
 * with the working tree, so both meet the same load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { ROOT, snapshotLauncher } from './procs.js';

// The modules are loaded from a tree chosen at run time (this one, or a commit's snapshot), with this tree's API.
type CommandLogModule = typeof import('../src/cmdlog/command-log.js');
type EngineModule = typeof import('../src/jobs/engine.js');
type JobModule = typeof import('../src/jobs/job.js');
type QueueModule = typeof import('../src/jobs/queue.js');

interface Side {
  label: string;
  root: string;
  /** Wall time of each open. */
  ms: number[];
  /** CPU time (user + system) of each open: what a busy machine changes least. */
  cpuMs: number[];
}

const { values } = parseArgs({ options: { at: { type: 'string' }, segments: { type: 'string' }, runs: { type: 'string' }, help: { type: 'boolean' } } });
if (values.help) {
  console.log('usage: node --import=tsx bench/replay-segments.ts [--at REV] [--segments N (2000)] [--runs R (9)]');
  process.exit(0);
}
const segments = Number(values.segments ?? 2000);
const runs = Number(values.runs ?? 9);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'workq-bench-segments-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const logger = pino({ level: 'silent' });
const dir = path.join(tmp, 'log');

const sides: Side[] = [{ label: 'working tree', root: ROOT, ms: [], cpuMs: [] }];
if (values.at !== undefined) {
  const launcher = snapshotLauncher(values.at, mkdtempSync(path.join(tmp, 'snapshot-')));
  sides.push({ label: `commit ${values.at}`, root: launcher.root, ms: [], cpuMs: [] });
}

/** The log, written by the working tree's own appender: one add per segment. */
async function writeLog(): Promise<void> {
  const { openCommandLog } = (await import(path.join(ROOT, 'src/cmdlog/command-log.ts'))) as CommandLogModule;
  const { Engine } = (await import(path.join(ROOT, 'src/jobs/engine.ts'))) as EngineModule;
  const { Job } = (await import(path.join(ROOT, 'src/jobs/job.ts'))) as JobModule;
  const { Queue } = (await import(path.join(ROOT, 'src/jobs/queue.ts'))) as QueueModule;
  const queue = new Queue('q');
  const log = await openCommandLog(
    { dir, sync: 'os', syncIntervalMs: 1000, segmentSize: 15, cleanIntervalMs: 3_600_000, logger },
    new Engine({ now: () => Date.now() }),
  );
  const sec = Math.floor(Date.now() / 1000);
  for (let i = 0; i < segments; i++) {
    const id = `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
    log.add(Job.create(id, queue, 1000, 3_600_000, 0, 0, 0, 'x'.repeat(100), sec, 0, 0, 0, false));
    await new Promise<void>((resolve) => log.whenDurable(log.lastSeq, resolve));
  }
  await log.close();
}

async function openOnce(side: Side): Promise<void> {
  const { openCommandLog } = (await import(path.join(side.root, 'src/cmdlog/command-log.ts'))) as CommandLogModule;
  const { Engine } = (await import(path.join(side.root, 'src/jobs/engine.ts'))) as EngineModule;
  const engine = new Engine({ now: () => Date.now() });
  const cpu = process.cpuUsage();
  const started = performance.now();
  const log = await openCommandLog({ dir, sync: 'interval', syncIntervalMs: 1000, segmentSize: 15, cleanIntervalMs: 3_600_000, logger }, engine);
  side.ms.push(performance.now() - started);
  const used = process.cpuUsage(cpu);
  side.cpuMs.push((used.user + used.system) / 1000);
  if (engine.jobCount !== segments) throw new Error(`${side.label}: ${engine.jobCount} jobs replayed, ${segments} expected`);
  await log.close();
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

await writeLog();
// One unmeasured open each: module loading and the first manifest write are not replay.
for (const side of sides) await openOnce(side);
for (const side of sides) {
  side.ms.length = 0;
  side.cpuMs.length = 0;
}
for (let run = 0; run < runs; run++) for (const side of sides) await openOnce(side);

console.log(`${segments} one-record segments, ${runs} opens per side in turns, load average ${os.loadavg()[0]!.toFixed(2)}`);
for (const side of sides) {
  console.log(
    `${side.label}: median ${median(side.ms).toFixed(0)} ms (${((median(side.ms) * 1000) / segments).toFixed(0)} µs per segment), CPU ${median(side.cpuMs).toFixed(0)} ms; runs ${side.ms.map((m) => m.toFixed(0)).join(' / ')}`,
  );
}
if (sides.length === 2) {
  const ratio = (f: (s: Side) => number[]): string => (median(f(sides[1]!)) / median(f(sides[0]!))).toFixed(1);
  console.log(`ratio ${sides[1]!.label} / working tree: ${ratio((s) => s.ms)}× wall, ${ratio((s) => s.cpuMs)}× CPU`);
}
