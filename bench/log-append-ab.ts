/**
 * `node --import=tsx bench/log-append-ab.ts <rev-a> <rev-b> [rounds] [jobs]`: the add path
 * with the command log as the engine's journal, for the src/ of two commits (git archive),
 * in alternating rounds in one process. Each round opens a fresh log in a temporary
 * directory (sync 'interval', 1 s, 64 MiB segments as configured by default), adds
 * `jobs` jobs of 100-byte payloads in batches of 256 per event-loop turn (as a
 * pipelining client's reads arrive), so every turn ends in one group-commit write,
 * and closes the log (final write and fsync). Prints each round, the medians in adds/s,
 * and b/a.
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
  close(): Promise<void>;
}

interface Side {
  rev: string;
  Engine: new (clock: { now(): number }) => { add(job: unknown): unknown; setJournal(journal: unknown): void };
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
  const [{ Engine }, { openCommandLog }] = await Promise.all([import(from('jobs/engine.ts')), import(from('cmdlog/command-log.ts'))]);
  return { rev, Engine, openCommandLog };
}

function uuid(i: number): string {
  return `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
}

const PAYLOAD = 'x'.repeat(100);
const JOB_SPECS = Array.from({ length: JOBS }, (_, i) => ({ id: uuid(i), name: 'bench', ttr: 60000, ttl: 600000, priority: 0, maxAttempts: 0, maxFails: 0, payload: PAYLOAD }));
let roundNo = 0;

async function addRound(side: Side): Promise<number> {
  const dir = path.join(tmp, `log-${roundNo++}`);
  const engine = new side.Engine({ now: () => Date.now() });
  const log = await side.openCommandLog({ dir, sync: 'interval', syncIntervalMs: 1000, segmentSize: 64 * 1024 * 1024, cleanIntervalMs: 300000, logger }, engine);
  engine.setJournal(log);
  const started = performance.now();
  for (let i = 0; i < JOBS; i += BATCH) {
    for (let j = i; j < Math.min(JOBS, i + BATCH); j++) {
      if (engine.add(JOB_SPECS[j]) !== null) throw new Error(`${side.rev}: add ${j} refused`);
    }
    await turn();
  }
  await log.close();
  const ms = performance.now() - started;
  rmSync(dir, { recursive: true, force: true });
  return (JOBS * 1000) / ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const sides = [await load(revA), await load(revB)];
const results = new Map<string, number[]>();
// One unrecorded round each, so both sides are compiled by the JIT before the clock matters.
for (const side of sides) await addRound(side);
for (let round = 0; round < ROUNDS; round++) {
  for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
    const opsPerSec = await addRound(side);
    // Keyed by side, not by rev, so an A/A control (the same rev twice) keeps two series.
    const key = side === sides[0] ? 'a' : 'b';
    results.set(key, [...(results.get(key) ?? []), opsPerSec]);
    console.log(`logged add ${side.rev} round ${round + 1}: ${Math.round(opsPerSec).toLocaleString('en')} adds/s`);
  }
}
const a = median(results.get('a')!);
const b = median(results.get('b')!);
console.log(`logged add: ${revA} ${Math.round(a).toLocaleString('en')} adds/s, ${revB} ${Math.round(b).toLocaleString('en')} adds/s, ${revB}/${revA} ${(b / a).toFixed(3)}`);
