/**
 * `node --expose-gc --import=tsx bench/memory-inproc.ts [--jobs N] [--rounds R] [--at REV]`:
 * the heap and RSS a queued 100-byte job costs in process, added live (through
 * `Engine.add`, its strings made from a received buffer as the parser makes them), added
 * live with the command log as the journal, and replayed from such a log, each in a fresh child process, in
 * alternating rounds, medians reported. Per job: V8's heap used after two full GCs, the
 * external memory (Buffers, typed arrays: the command log's drop book), and RSS, each minus the same figures of a child that
 * loaded the same modules and made no job. With `--at REV` a commit's tree (git
 * archive) runs as a second side in the same rounds.
 *
 * `--child empty|live|logged|replay --dir D --jobs N --root R` is one measured child (used by the
 * driver), printing one JSON line; `--child write` writes the log the replay children read.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics } from 'node:v8';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { ROOT, snapshotLauncher } from './procs.js';

type CommandLogModule = typeof import('../src/cmdlog/command-log.js');
type EngineModule = typeof import('../src/jobs/engine.js');

const { values } = parseArgs({
  options: {
    child: { type: 'string' },
    dir: { type: 'string' },
    root: { type: 'string' },
    jobs: { type: 'string' },
    rounds: { type: 'string' },
    at: { type: 'string' },
    modes: { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log('usage: node --expose-gc --import=tsx bench/memory-inproc.ts [--jobs N (1000000)] [--rounds R (3)] [--at REV] [--modes live,logged,replay]');
  process.exit(0);
}
const jobs = Number(values.jobs ?? 1_000_000);
const PAYLOAD = 100;
/** A child that made no job; jobs added to an engine alone; added with the command log as its journal; replayed from that log. */
const MODES = ['empty', ...(values.modes ?? 'live,logged,replay').split(',')];

interface Sample {
  heapUsed: number;
  external: number;
  rss: number;
  /** Used bytes of each V8 heap space. */
  spaces: Record<string, number>;
  /** Committed (physical) bytes of each V8 heap space. */
  committed: Record<string, number>;
  /** RSS and heap used as the work left them, before the forced GCs: what a server that goes on serving holds. */
  rssBeforeGc: number;
  heapUsedBeforeGc: number;
  externalBeforeGc: number;
  ms: number;
}

function sample(ms: number): Sample {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  const before = process.memoryUsage();
  gc();
  gc();
  const mem = process.memoryUsage();
  const spaces: Record<string, number> = {};
  const committed: Record<string, number> = {};
  for (const s of getHeapSpaceStatistics()) {
    spaces[s.space_name] = s.space_used_size;
    committed[s.space_name] = s.physical_space_size;
  }
  return {
    heapUsed: mem.heapUsed,
    external: mem.external,
    rss: mem.rss,
    spaces,
    committed,
    rssBeforeGc: before.rss,
    heapUsedBeforeGc: before.heapUsed,
    externalBeforeGc: before.external,
    ms,
  };
}

/** Requests as a connection receives them: IDs and payloads are latin1 slices of one received chunk. */
function addSpecs(engine: InstanceType<EngineModule['Engine']>, n: number): void {
  const chunk = Buffer.alloc(36 + PAYLOAD, 0x78);
  for (let i = 0; i < n; i++) {
    const id = randomBytes(16);
    id[6] = (id[6]! & 0x0f) | 0x40;
    id[8] = (id[8]! & 0x3f) | 0x80;
    chunk.write(id.toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-'), 0, 'latin1');
    const error = engine.add({
      id: chunk.toString('latin1', 0, 36),
      name: 'q',
      ttr: 60_000,
      ttl: 3_600_000,
      priority: 0,
      maxAttempts: 0,
      maxFails: 0,
      payload: chunk.subarray(36, 36 + PAYLOAD),
    });
    if (error !== null) throw new Error(error);
  }
}

async function child(mode: string, root: string, dir: string): Promise<void> {
  const { openCommandLog } = (await import(path.join(root, 'src/cmdlog/command-log.ts'))) as CommandLogModule;
  const { Engine } = (await import(path.join(root, 'src/jobs/engine.ts'))) as EngineModule;
  const logger = pino({ level: 'silent' });
  const engine = new Engine({ now: () => Date.now() });
  const opts = { dir, sync: 'os' as const, syncIntervalMs: 1000, segmentSize: 64 * 1024 * 1024, cleanIntervalMs: 3_600_000, logger };
  const started = performance.now();
  let log: Awaited<ReturnType<CommandLogModule['openCommandLog']>> | null = null;
  if (mode === 'write' || mode === 'logged') {
    log = await openCommandLog(opts, engine);
    engine.setJournal(log);
    for (let done = 0; done < jobs; done += 10_000) {
      addSpecs(engine, Math.min(10_000, jobs - done));
      await new Promise<void>((resolve) => log!.whenDurable(log!.lastSeq, resolve));
    }
  }
  if (mode === 'write') {
    await log!.close();
    console.log('{}');
    return;
  }
  if (mode === 'live') addSpecs(engine, jobs);
  if (mode === 'replay') log = await openCommandLog(opts, engine);
  const ms = performance.now() - started;
  const expected = mode === 'empty' ? 0 : jobs;
  if (engine.jobCount !== expected) throw new Error(`${mode}: ${engine.jobCount} jobs, ${expected} expected`);
  const s = sample(ms);
  console.log(JSON.stringify(s));
  await log?.close();
}

if (values.child !== undefined) {
  await child(values.child, values.root ?? ROOT, values.dir!);
} else {
  const rounds = Number(values.rounds ?? 3);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'workq-bench-memory-'));
  process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
  const sides = [{ label: 'working tree', root: ROOT }];
  if (values.at !== undefined) sides.push({ label: `commit ${values.at}`, root: snapshotLauncher(values.at, mkdtempSync(path.join(tmp, 'snapshot-'))).root });
  const run = (mode: string, root: string, dir: string): Sample => {
    const out = execFileSync(
      process.execPath,
      ['--expose-gc', '--import=tsx', path.join(ROOT, 'bench/memory-inproc.ts'), '--child', mode, '--root', root, '--dir', dir, '--jobs', String(jobs)],
      { cwd: root, encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    return JSON.parse(out.trim().split('\n').at(-1)!) as Sample;
  };
  const dir = path.join(tmp, 'log');
  run('write', ROOT, dir);
  const results = new Map<string, Sample[]>();
  for (let r = 0; r < rounds; r++) {
    for (const side of sides) {
      for (const mode of MODES) {
        const key = `${side.label}\t${mode}`;
        if (!results.has(key)) results.set(key, []);
        const logged = path.join(tmp, 'logged');
        results.get(key)!.push(run(mode, side.root, mode === 'logged' ? logged : dir));
        rmSync(logged, { recursive: true, force: true });
      }
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `${jobs.toLocaleString('en-US')} jobs of ${PAYLOAD} bytes, ${rounds} rounds, load average ${os.loadavg()[0]!.toFixed(2)}; bytes per job over an empty child, medians`,
  );
  for (const side of sides) {
    const empty = results.get(`${side.label}\tempty`)!;
    const base = (f: (s: Sample) => number): number => median(empty.map(f));
    for (const mode of MODES.slice(1)) {
      const xs = results.get(`${side.label}\t${mode}`)!;
      const per = (f: (s: Sample) => number): string => ((median(xs.map(f)) - base(f)) / jobs).toFixed(1);
      const spaces = Object.keys(xs[0]!.spaces)
        .map((k) => `${k} ${per((s) => s.spaces[k]!)}/${per((s) => s.committed[k]!)}`)
        .filter((t) => !/ 0\.0\/0\.0$/.test(t) && !/ -?0\.\d\/-?0\.\d$/.test(t));
      console.log(
        `${side.label} ${mode}: heap used ${per((s) => s.heapUsed)}, external ${per((s) => s.external)}, RSS ${per((s) => s.rss)}; before GC: heap used ${per((s) => s.heapUsedBeforeGc)}, external ${per((s) => s.externalBeforeGc)}, RSS ${per((s) => s.rssBeforeGc)}; ${median(xs.map((s) => s.ms)).toFixed(0)} ms; spaces used/committed: ${spaces.join(', ')}`,
      );
    }
  }
  console.log(`empty child: RSS ${(median(results.get(`${sides[0]!.label}\tempty`)!.map((s) => s.rss)) / 2 ** 20).toFixed(1)} MiB`);
}
