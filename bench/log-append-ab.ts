/**
 * `node --import=tsx bench/log-append-ab.ts <rev-a> <rev-b> [rounds] [jobs]`: the add path
 * with the command log as the engine's journal, for the src/ of two commits (git archive),
 * in alternating rounds in one process. Each round opens a fresh log in a temporary
 * directory (sync 'interval', 1 s, 64 MiB segments as configured by default), adds
 * `jobs` jobs of 100-byte payloads in batches of 256 per event-loop turn (as a
 * pipelining client's reads arrive), so every turn ends in one group-commit write,
 * and closes the log (final write and fsync). Prints each round, the medians in adds/s
 * of wall time and of this process's CPU time (steadier on a shared machine, where the
 * wall clock counts other processes' turns too), and b/a of each.
 *
 * A second workload, `journal`, times the record encoding and queueing alone: jobs made
 * by the engine beforehand are journaled straight into the log (an add and four completes
 * each, all in one turn, so the write comes after the clock stops).
 *
 * hot-path-ab.ts measures parse, decode, engine and reply without a journal; this one
 * adds the record encoding, the queue and the segment writes that the command log costs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';
import pino from 'pino';
import { ROOT } from './procs.js';

interface Log {
  add(job: unknown): void;
  complete(id: string, result: string): void;
  close(): Promise<void>;
}

interface Side {
  rev: string;
  Engine: new (clock: { now(): number }) => { add(job: unknown): unknown; setJournal(journal: unknown): void; inspectJob(id: string): unknown };
  openCommandLog: (opts: unknown, engine: unknown) => Promise<Log>;
}

const [revA, revB, roundsText = '7', jobsText = '200000'] = process.argv.slice(2);
if (revA === undefined || revB === undefined) {
  console.error('usage: node --import=tsx bench/log-append-ab.ts <rev-a> <rev-b> [rounds] [jobs]');
  process.exit(2);
}
const ROUNDS = Number(roundsText);
const JOBS = Number(jobsText);
const BATCH = 256;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'workq-log-ab-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
// The command log needs its registry packages (crc32c): resolved from the extracted trees through this link.
symlinkSync(path.join(ROOT, 'node_modules'), path.join(tmp, 'node_modules'));
const logger = pino({ level: 'silent' });

async function load(rev: string): Promise<Side> {
  const dir = path.join(tmp, 'src-' + rev);
  execFileSync('sh', ['-c', `mkdir -p "${dir}" && git -C "${ROOT}" archive "${rev}" src | tar -x -C "${dir}"`]);
  const from = (file: string): string => pathToFileURL(path.join(dir, 'src', file)).href;
  const [engine, log] = (await Promise.all([import(from('jobs/engine.ts')), import(from('cmdlog/command-log.ts'))])) as [
    Pick<Side, 'Engine'>,
    Pick<Side, 'openCommandLog'>,
  ];
  return { rev, Engine: engine.Engine, openCommandLog: log.openCommandLog };
}

function uuid(i: number): string {
  return `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
}

const PAYLOAD = 'x'.repeat(100);
const JOB_SPECS = Array.from({ length: JOBS }, (_, i) => ({
  id: uuid(i),
  name: 'bench',
  ttr: 60000,
  ttl: 600000,
  priority: 0,
  maxAttempts: 0,
  maxFails: 0,
  payload: PAYLOAD,
}));
let roundNo = 0;

interface Rate {
  wall: number;
  cpu: number;
}

async function addRound(side: Side): Promise<Rate> {
  const dir = path.join(tmp, `log-${roundNo++}`);
  const engine = new side.Engine({ now: () => Date.now() });
  const log = await side.openCommandLog(
    { dir, sync: 'interval', syncIntervalMs: 1000, segmentSize: 64 * 1024 * 1024, cleanIntervalMs: 300000, logger },
    engine,
  );
  engine.setJournal(log);
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  for (let i = 0; i < JOBS; i += BATCH) {
    for (let j = i; j < Math.min(JOBS, i + BATCH); j++) {
      if (engine.add(JOB_SPECS[j]) !== null) throw new Error(`${side.rev}: add ${j} refused`);
    }
    await turn();
  }
  await log.close();
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuStarted);
  rmSync(dir, { recursive: true, force: true });
  return { wall: (JOBS * 1000) / ms, cpu: (JOBS * 1e6) / (cpu.user + cpu.system) };
}

async function journalRound(side: Side): Promise<Rate> {
  const dir = path.join(tmp, `log-${roundNo++}`);
  const engine = new side.Engine({ now: () => Date.now() });
  for (const spec of JOB_SPECS) engine.add(spec);
  const jobs = JOB_SPECS.map((spec) => engine.inspectJob(spec.id));
  const log = await side.openCommandLog({ dir, sync: 'os', syncIntervalMs: 1000, segmentSize: 1024 * 1024 * 1024, cleanIntervalMs: 300000, logger }, engine);
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  for (const job of jobs) log.add(job);
  for (let rep = 0; rep < 4; rep++) for (const spec of JOB_SPECS) log.complete(spec.id, 'ok');
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuStarted);
  await log.close();
  rmSync(dir, { recursive: true, force: true });
  return { wall: (5 * JOBS * 1000) / ms, cpu: (5 * JOBS * 1e6) / (cpu.user + cpu.system) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted[Math.floor(sorted.length / 2)];
  if (middle === undefined) throw new Error('median of no values');
  return middle;
}

const sides = [await load(revA), await load(revB)];
for (const workload of [addRound, journalRound]) {
  const name = workload === addRound ? 'logged add' : 'journal';
  const results = new Map<string, Rate[]>();
  // One unrecorded round each, so both sides are compiled by the JIT before the clock matters.
  for (const side of sides) await workload(side);
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const rate = await workload(side);
      // Keyed by side, not by rev, so an A/A control (the same rev twice) keeps two series.
      const key = side === sides[0] ? 'a' : 'b';
      results.set(key, [...(results.get(key) ?? []), rate]);
      console.log(
        `${name} ${side.rev} round ${round + 1}: ${Math.round(rate.wall).toLocaleString('en')}/s, ${Math.round(rate.cpu).toLocaleString('en')} per CPU-second`,
      );
    }
  }
  for (const kind of ['wall', 'cpu'] as const) {
    const a = median(results.get('a')!.map((r) => r[kind]));
    const b = median(results.get('b')!.map((r) => r[kind]));
    console.log(
      `${name} (${kind}): ${revA} ${Math.round(a).toLocaleString('en')}, ${revB} ${Math.round(b).toLocaleString('en')}, ${revB}/${revA} ${(b / a).toFixed(3)}`,
    );
  }
}
