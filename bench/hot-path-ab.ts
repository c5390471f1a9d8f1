/**
 * `node --import=tsx bench/hot-path-ab.ts <rev-a> <rev-b> [rounds] [jobs]`: the server's
 * hot path without sockets: command bytes through the push parser, decode, the engine
 * and the reply writer, for the src/ of two commits (git archive), in alternating rounds.
 * Three workloads: `add` of 100-byte payloads; add → lease → complete cycles, 64 at a
 * time; and `drain`, lease → complete of a backlog of every job added first; the
 * engine's clock moves as a busy server's does (busyClock). Prints each round and the
 * medians in ops/s, and b/a.
 *
 * Each round of each side runs in a process of its own (one unrecorded round to compile,
 * then the measured one), turn about, so a busy machine slows both alike and neither
 * side's code shares a process with the other's: when both ran in one process, the side
 * loaded first came out ahead by 15–45 %, whichever commit it was, since the functions of
 * Node's own that both call (Buffer, strings) are compiled for the first side's use.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { ROOT } from './procs.js';

interface Side {
  rev: string;
  Parser: new (sink: unknown) => { feed(chunk: Buffer): void };
  decode: (frame: unknown) => { kind: string; [key: string]: unknown };
  Engine: new (clock: { now(): number }) => Record<string, (...args: unknown[]) => unknown>;
  ReplyWriter: new () => { ok(): void; leased(id: string, name: string, ttr: number, payload: unknown): void; take(): Buffer; timeout(): void };
}

const WORKLOADS = ['add', 'cycle', 'drain'] as const;
type Figures = Record<(typeof WORKLOADS)[number], number>;

async function load(dir: string, rev: string): Promise<Side> {
  const from = (file: string): string => pathToFileURL(path.join(dir, 'src', file)).href;
  // Modules of another commit: only the parts this bench calls, as Side describes them.
  const [{ Parser }, { decode }, { Engine }, { ReplyWriter }] = (await Promise.all([
    import(from('protocol/parser.ts')),
    import(from('protocol/decode.ts')),
    import(from('jobs/engine.ts')),
    import(from('protocol/replies.ts')),
  ])) as [Pick<Side, 'Parser'>, Pick<Side, 'decode'>, Pick<Side, 'Engine'>, Pick<Side, 'ReplyWriter'>];
  return { rev, Parser, decode, Engine, ReplyWriter };
}

const args = process.argv.slice(2);
/** A child runs one side: `--side DIR REV JOBS`, and prints its figures as JSON. */
const child = args[0] === '--side';
const [revA, revB, roundsText = '7', jobsText = '200000'] = child ? [] : args;
if (!child && (revA === undefined || revB === undefined)) {
  console.error('usage: node --import=tsx bench/hot-path-ab.ts <rev-a> <rev-b> [rounds] [jobs]');
  process.exit(2);
}
const ROUNDS = Number(roundsText);
const JOBS = Number(child ? args[3] : jobsText);

function uuid(i: number): string {
  const hex = i.toString(16).padStart(12, '0');
  return `00000000-0000-4000-8000-${hex}`;
}

const PAYLOAD = 'x'.repeat(100);
const ADDS = Buffer.from(Array.from({ length: JOBS }, (_, i) => `add ${uuid(i)} bench 60000 600000 100\r\n${PAYLOAD}\r\n`).join(''), 'latin1');

/**
 * A clock that moves on a millisecond every 64 readings, as it does for a busy server's
 * commands: jobs added together share their times, and a backlog spans many. On a clock
 * that stood still, every job of a drain was ready since the same millisecond, and the
 * oldest-ready bookkeeping never had to order two of them.
 */
function busyClock(): { now(): number } {
  let readings = 0;
  return { now: () => 1_800_000_000_000 + (readings++ >> 6) };
}

/** Feeds `bytes` in 64 KiB reads, as a socket would deliver them, through parse → decode → engine → reply. */
function addRound(side: Side): number {
  const engine = new side.Engine(busyClock());
  const out = new side.ReplyWriter();
  let n = 0;
  const parser = new side.Parser({
    command(frame: unknown) {
      const request = side.decode(frame);
      if (request.kind === 'add' && engine.add!(request) === null) out.ok();
      n++;
    },
    error() {},
    close() {},
  });
  const started = performance.now();
  for (let at = 0; at < ADDS.length; at += 65536) {
    parser.feed(ADDS.subarray(at, at + 65536));
    out.take();
  }
  const ms = performance.now() - started;
  if (n !== JOBS) throw new Error(`${side.rev}: ${n} of ${JOBS} adds`);
  return (JOBS * 1000) / ms;
}

/** A parser over one engine that applies add, lease and complete and writes their replies, counting the completes. */
function cyclingParser(side: Side): { parser: InstanceType<Side['Parser']>; out: InstanceType<Side['ReplyWriter']>; done: () => number } {
  const engine = new side.Engine(busyClock());
  const out = new side.ReplyWriter();
  let done = 0;
  const parser = new side.Parser({
    command(frame: unknown) {
      const r = side.decode(frame);
      if (r.kind === 'add') engine.add!(r);
      else if (r.kind === 'lease')
        engine.lease!(r['names'], 0, (job: { id: string; name: string; ttr: number; payload: string; writePayload?: unknown } | null) => {
          if (job === null) out.timeout();
          // A tree whose jobs write their own payload takes the job as the reply's payload source; an older one, the payload's text.
          else out.leased(job.id, job.name, job.ttr, job.writePayload === undefined ? job.payload : job);
        });
      else if (r.kind === 'complete' && engine.complete!(r['id'], r['result']) === null) {
        out.ok();
        done++;
      }
    },
    error() {},
    close() {},
  });
  return { parser, out, done: () => done };
}

/** add, lease and complete per job, each command parsed and decoded, batches of 64 as a pipelining client sends them. */
function cycleRound(side: Side): number {
  const { parser, out, done } = cyclingParser(side);
  const batch = 64;
  const started = performance.now();
  for (let i = 0; i < JOBS; i += batch) {
    let adds = '';
    let leases = '';
    let completes = '';
    for (let j = i; j < Math.min(JOBS, i + batch); j++) {
      adds += `add ${uuid(j)} cycle 60000 600000 100\r\n${PAYLOAD}\r\n`;
      leases += 'lease cycle 0\r\n';
      completes += `complete ${uuid(j)} 2\r\nok\r\n`;
    }
    parser.feed(Buffer.from(adds + leases + completes, 'latin1'));
    out.take();
  }
  const ms = performance.now() - started;
  if (done() !== JOBS) throw new Error(`${side.rev}: ${done()} of ${JOBS} cycles`);
  return (JOBS * 1000) / ms;
}

/**
 * A backlog drained: every job added first, then leased and completed in batches of 64,
 * as workers catching up would; the ready list and its heaps are as large as they get.
 * Reported in cycles/s of the drain alone.
 */
function drainRound(side: Side): number {
  const { parser, out, done } = cyclingParser(side);
  for (let at = 0; at < ADDS.length; at += 65536) {
    parser.feed(ADDS.subarray(at, at + 65536));
    out.take();
  }
  const batches: Buffer[] = [];
  for (let i = 0; i < JOBS; i += 64) {
    let text = '';
    for (let j = i; j < Math.min(JOBS, i + 64); j++) text += 'lease bench 0\r\n';
    for (let j = i; j < Math.min(JOBS, i + 64); j++) text += `complete ${uuid(j)} 2\r\nok\r\n`;
    batches.push(Buffer.from(text, 'latin1'));
  }
  const started = performance.now();
  for (const batch of batches) {
    parser.feed(batch);
    out.take();
  }
  const ms = performance.now() - started;
  if (done() !== JOBS) throw new Error(`${side.rev}: ${done()} of ${JOBS} drained`);
  return (JOBS * 1000) / ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)]!;
}

if (child) {
  const side = await load(args[1]!, args[2]!);
  const rounds = { add: addRound, cycle: cycleRound, drain: drainRound };
  const figures: Figures = { add: 0, cycle: 0, drain: 0 };
  for (const workload of WORKLOADS) {
    rounds[workload](side);
    figures[workload] = rounds[workload](side);
  }
  console.log(JSON.stringify(figures));
} else {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'workq-ab-'));
  process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
  const dirs = [revA!, revB!].map((rev, i) => {
    const dir = path.join(tmp, String(i));
    execFileSync('sh', ['-c', `mkdir -p "${dir}" && git -C "${ROOT}" archive "${rev}" src | tar -x -C "${dir}"`]);
    return { rev, dir };
  });
  const results = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const { rev, dir } of round % 2 === 0 ? dirs : [...dirs].reverse()) {
      const out = execFileSync(process.execPath, ['--import=tsx', fileURLToPath(import.meta.url), '--side', dir, rev, String(JOBS)], { encoding: 'utf8' });
      const figures = JSON.parse(out) as Figures;
      for (const workload of WORKLOADS) {
        const key = `${workload} ${rev}`;
        results.set(key, [...(results.get(key) ?? []), figures[workload]]);
        console.log(`${key} round ${round + 1}: ${Math.round(figures[workload]).toLocaleString('en')} ops/s`);
      }
    }
  }
  for (const workload of WORKLOADS) {
    const a = median(results.get(`${workload} ${revA}`)!);
    const b = median(results.get(`${workload} ${revB}`)!);
    console.log(
      `${workload}: ${revA} ${Math.round(a).toLocaleString('en')} ops/s, ${revB} ${Math.round(b).toLocaleString('en')} ops/s, ${revB}/${revA} ${(b / a).toFixed(3)}`,
    );
  }
}
