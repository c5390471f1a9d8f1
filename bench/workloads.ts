/**
 * The eight workloads. Each runs on fresh server processes, Workq-TS and beanstalkd on the
 * nearest equivalent work, and returns table rows; a side whose server is unavailable
 * is left empty.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Conversation, type LoadResult, Pipeline, Tally, Worker, beanstalkWorker, runLoad, workqWorker } from './loadgen.js';
import { measureLatency } from './latency.js';
import {
  type ServerProc,
  type SupervisorProc,
  type WorkqLauncher,
  WORKQ_PROBE,
  beanstalkdArgs,
  freePort,
  runToExit,
  startBeanstalkd,
  startNodeFloor,
  startNull,
  startSupervisor,
  startWorkq,
  untilAnswers,
  untilDead,
  workqArgs,
} from './procs.js';
import { readyJobs } from './query.js';
import type { Protocol } from './scan.js';
import { beanstalkPuts, beanstalkUse, workqAdds } from './wire.js';

export interface BenchConfig {
  conns: number;
  /** Worker connections of the cycle workload, and the leases each keeps in flight. */
  workers: number;
  workerDepth: number;
  depth: number;
  /** Time bound of one measured load, seconds. */
  seconds: number;
  jobs: { add: number; cycle: number; memory: number; durability: number; replay: number; restart: number; segments: number };
  rounds: number;
  /** Measured runs per side of the throughput and latency workloads; the median is reported. */
  repeat: number;
  /** Kills per side of the restart workload; the median is reported. */
  kills: number;
  workq: WorkqLauncher | null;
  beanstalkd: boolean;
  tmp: string;
  log(message: string): void;
}

export interface Row {
  workload: string;
  metric: string;
  workq: number | null;
  beanstalkd: number | null;
  /** Decimals shown for the two values. */
  digits: number;
  note: string;
}

export const WORKLOAD_NAMES = ['add', 'cycle', 'latency', 'memory', 'durability', 'replay', 'restart', 'segments'] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

/** A load far larger than any bounded measurement: used where only the count bounds it. */
const UNBOUNDED_SECONDS = 1800;

function shares(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

function addConversations(protocol: Protocol, jobs: number, cfg: BenchConfig, queue: string, tally: Tally): Conversation[] {
  return shares(jobs, cfg.conns).map((n, i) =>
    protocol === 'workq'
      ? new Pipeline('workq', workqAdds(i, n, queue), cfg.depth, tally)
      : new Pipeline('beanstalk', beanstalkPuts(n, cfg.depth), cfg.depth, tally, beanstalkUse(queue), 1),
  );
}

function addLoad(protocol: Protocol, port: number, jobs: number, cfg: BenchConfig, seconds: number, queue = 'q'): Promise<LoadResult> {
  const tally = new Tally(jobs);
  return runLoad(port, addConversations(protocol, jobs, cfg, queue, tally), tally, seconds);
}

/** Warm-ups are bounded tighter: under `sync always` they would otherwise take long. */
const WARM_SECONDS = 3;

function warmJobs(jobs: number): number {
  return Math.min(20000, Math.max(1, Math.floor(jobs / 5)));
}

/** An unmeasured add load of the same shape, into its own queue. */
function warmAdds(protocol: Protocol, port: number, jobs: number, cfg: BenchConfig): Promise<LoadResult> {
  return addLoad(protocol, port, warmJobs(jobs), cfg, Math.min(cfg.seconds, WARM_SECONDS), 'warm');
}

async function onServer<T>(start: () => Promise<ServerProc>, fn: (proc: ServerProc) => Promise<T>): Promise<T> {
  const proc = await start();
  try {
    return await fn(proc);
  } finally {
    await proc.stop();
  }
}

/** What a reader needs to trust a figure: how much was done, and anything that went wrong. */
function describe(r: LoadResult, target: number): string {
  const parts = [`${r.units.toLocaleString('en-US')} in ${r.seconds.toFixed(2)} s`];
  if (r.closedEarly) parts.push('CONNECTION CLOSED BY THE SERVER');
  else if (r.units + r.errors < target) parts.push(`time-bounded (target ${target.toLocaleString('en-US')})`);
  if (r.errors > 0) parts.push(`${r.errors} ERRORS`);
  if (r.timeouts > 0) parts.push(`${r.timeouts} wait timeouts`);
  return parts.join(', ');
}

function sideNotes(notes: Partial<Record<Protocol, string>>): string {
  const parts: string[] = [];
  if (notes.workq) parts.push(`workq: ${notes.workq}`);
  if (notes.beanstalk) parts.push(`beanstalkd: ${notes.beanstalk}`);
  return parts.join('; ');
}

const PROTOCOLS: Protocol[] = ['workq', 'beanstalk'];

function available(cfg: BenchConfig): Protocol[] {
  return PROTOCOLS.filter((p) => (p === 'workq' ? cfg.workq !== null : cfg.beanstalkd));
}

function defaultStart(cfg: BenchConfig, protocol: Protocol): Promise<ServerProc> {
  return protocol === 'workq' ? startWorkq(cfg.workq!) : startBeanstalkd();
}

interface Sample {
  value: number;
  note: string;
}

interface Sides {
  values: Record<Protocol, number | null>;
  notes: Partial<Record<Protocol, string>>;
}

function fmt(v: number): string {
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1);
}

/**
 * Runs every side once, on its own server process, one after the other (for workloads
 * that are too big to repeat or that need the machine to themselves).
 */
async function eachSide(cfg: BenchConfig, name: string, measure: (protocol: Protocol) => Promise<Sample>): Promise<Sides> {
  const sides: Sides = { values: { workq: null, beanstalk: null }, notes: {} };
  for (const protocol of available(cfg)) {
    cfg.log(`${name}: ${protocol}…`);
    const sample = await measure(protocol);
    sides.values[protocol] = sample.value;
    sides.notes[protocol] = sample.note;
    cfg.log(`${name}: ${protocol} ${fmt(sample.value)} (${sample.note})`);
  }
  return sides;
}

/**
 * Starts the servers of both sides, warms each up, then measures them in turns, `repeat`
 * times, so that load from elsewhere on a shared machine falls on both alike. Each side
 * reports the median run, with every run's value in its note.
 */
async function interleaved(
  cfg: BenchConfig,
  name: string,
  start: (protocol: Protocol) => Promise<ServerProc>,
  warm: (protocol: Protocol, proc: ServerProc) => Promise<unknown>,
  measure: (protocol: Protocol, proc: ServerProc, run: number) => Promise<Sample>,
): Promise<Sides> {
  const protocols = available(cfg);
  const procs = new Map<Protocol, ServerProc>();
  const samples = new Map<Protocol, Sample[]>(protocols.map((p) => [p, []]));
  try {
    for (const protocol of protocols) {
      procs.set(protocol, await start(protocol));
      await warm(protocol, procs.get(protocol)!);
    }
    for (let run = 0; run < cfg.repeat; run++) {
      for (const protocol of protocols) {
        const sample = await measure(protocol, procs.get(protocol)!, run);
        samples.get(protocol)!.push(sample);
        cfg.log(`${name} run ${run + 1}/${cfg.repeat}: ${protocol} ${fmt(sample.value)} (${sample.note})`);
      }
    }
  } finally {
    for (const proc of procs.values()) await proc.stop();
  }
  const sides: Sides = { values: { workq: null, beanstalk: null }, notes: {} };
  for (const [protocol, list] of samples) {
    const median = medianSample(list);
    sides.values[protocol] = median.value;
    sides.notes[protocol] = `${median.note}${runsNote(list)}`;
  }
  return sides;
}

/** The run with the median value (the lower middle one of an even count). */
function medianSample<S extends Sample>(list: S[]): S {
  return [...list].sort((a, b) => a.value - b.value)[Math.floor((list.length - 1) / 2)]!;
}

/** Every run's value, in run order, when there was more than one. */
function runsNote(list: Sample[]): string {
  return list.length > 1 ? ` (runs: ${list.map((x) => fmt(x.value)).join(' / ')})` : '';
}

/** The null responder finishes small loads too fast to time them well. */
const CEILING_JOBS = 1000000;

async function addWorkload(cfg: BenchConfig): Promise<Row[]> {
  const jobs = cfg.jobs.add;
  const { values, notes } = await interleaved(
    cfg,
    'add',
    (protocol) => defaultStart(cfg, protocol),
    (protocol, p) => warmAdds(protocol, p.port, jobs, cfg),
    async (protocol, p) => {
      const r = await addLoad(protocol, p.port, jobs, cfg, cfg.seconds);
      return { value: r.perSecond, note: describe(r, jobs) };
    },
  );
  cfg.log('add: null responder (load generator ceiling)…');
  const ceilingJobs = Math.max(jobs, CEILING_JOBS);
  const ceiling = await onServer(
    () => startNull(2),
    async (p) => {
      await warmAdds('workq', p.port, ceilingJobs, cfg);
      return addLoad('workq', p.port, ceilingJobs, cfg, cfg.seconds);
    },
  );
  const times = (v: number | null): string => (v ? `${(ceiling.perSecond / v).toFixed(1)}×` : '—');
  return [
    {
      workload: '1. add throughput',
      metric: 'ops/s',
      workq: values.workq,
      beanstalkd: values.beanstalk,
      digits: 0,
      note: sideNotes(notes),
    },
    {
      workload: '1. load generator ceiling',
      metric: 'ops/s, null `+OK` responder',
      workq: null,
      beanstalkd: null,
      digits: 0,
      note: `${Math.round(ceiling.perSecond).toLocaleString('en-US')} ops/s = ${times(values.workq)} Workq-TS, ${times(values.beanstalk)} beanstalkd (${describe(ceiling, ceilingJobs)})`,
    },
  ];
}

/** Cycles a cycle load of `jobs` adds counts to (see cycleLoad). */
function cycleTarget(jobs: number, cfg: Pick<BenchConfig, 'workers' | 'workerDepth'>): number {
  return Math.max(1, jobs - cfg.workers * (cfg.workerDepth - 1));
}

/**
 * By default workers hold one job at a time, as real workers do: beanstalkd holds back the
 * reply to a reserve that waited while the next reserve pipelined on that connection
 * waits (measured here: 5,000 cycles/s with 64 pipelined reserves per worker against
 * 41,000 with one), so deeply pipelined workers measure that instead of the server.
 * `--workers N --worker-depth D` runs other shapes (issue 15: 2 workers × 8 leases).
 *
 * N/2 producer connections × P pipelined adds; `workers` workers, each with `workerDepth`
 * leases in flight, lease → complete + lease.
 */
export function cycleLoad(
  protocol: Protocol,
  port: number,
  jobs: number,
  cfg: Pick<BenchConfig, 'conns' | 'depth' | 'seconds' | 'workers' | 'workerDepth'>,
  queue: string,
): Promise<LoadResult> {
  const producers = Math.max(1, Math.floor(cfg.conns / 2));
  const added = new Tally(jobs);
  // With leases pipelined, the last jobs' completes wait behind leases that no job will
  // serve (a waiting command holds back the rest of its connection, in both protocols)
  // until those leases time out: the load ends before that tail, or it would time the
  // lease timeout instead of the server.
  const cycles = new Tally(cycleTarget(jobs, cfg));
  const convs: Conversation[] = shares(jobs, producers).map((n, i) =>
    protocol === 'workq'
      ? new Pipeline('workq', workqAdds(i, n, queue), cfg.depth, added)
      : new Pipeline('beanstalk', beanstalkPuts(n, cfg.depth), cfg.depth, added, beanstalkUse(queue), 1),
  );
  const wire = protocol === 'workq' ? workqWorker(queue) : beanstalkWorker(queue);
  for (let i = 0; i < cfg.workers; i++) convs.push(new Worker(wire, cfg.workerDepth, cycles));
  return runLoad(port, convs, cycles, cfg.seconds);
}

async function cycleWorkload(cfg: BenchConfig): Promise<Row[]> {
  const jobs = cfg.jobs.cycle;
  // Every run has its own queue: waits left behind by a finished run must not catch jobs.
  const { values, notes } = await interleaved(
    cfg,
    'cycle',
    (protocol) => defaultStart(cfg, protocol),
    (protocol, p) => cycleLoad(protocol, p.port, warmJobs(jobs), { ...cfg, seconds: Math.min(cfg.seconds, WARM_SECONDS) }, 'warm'),
    async (protocol, p, run) => {
      const r = await cycleLoad(protocol, p.port, jobs, cfg, `cyc${run}`);
      return { value: r.perSecond, note: describe(r, cycleTarget(jobs, cfg)) };
    },
  );
  return [
    {
      workload: `2. add→lease→complete cycles, ${cfg.workers} workers × ${cfg.workerDepth} in flight`,
      metric: 'cycles/s',
      workq: values.workq,
      beanstalkd: values.beanstalk,
      digits: 0,
      note: sideNotes(notes),
    },
  ];
}

async function latencyWorkload(cfg: BenchConfig): Promise<Row[]> {
  const p99: Record<Protocol, number[]> = { workq: [], beanstalk: [] };
  const { values, notes } = await interleaved(
    cfg,
    'latency',
    (protocol) => defaultStart(cfg, protocol),
    () => Promise.resolve(),
    async (protocol, p, run) => {
      const r = await measureLatency(protocol, p.port, cfg.rounds, cfg.seconds, `lat${run}`);
      p99[protocol].push(r.p99us);
      const errors = r.errors > 0 ? `, ${r.errors} ERRORS` : '';
      return { value: r.p50us, note: `${r.samples} rounds, p99 ${fmt(r.p99us)} µs${errors}` };
    },
  );
  const median = (list: number[]): number | null => (list.length === 0 ? null : [...list].sort((x, y) => x - y)[Math.floor((list.length - 1) / 2)]!);
  return [
    {
      workload: '3. run round trip',
      metric: 'p50 µs (lower is better)',
      workq: values.workq,
      beanstalkd: values.beanstalk,
      digits: 0,
      note: sideNotes(notes),
    },
    {
      workload: '3. run round trip',
      metric: 'p99 µs (lower is better)',
      workq: median(p99.workq),
      beanstalkd: median(p99.beanstalk),
      digits: 0,
      note: "median of the runs' p99",
    },
  ];
}

/** How long after a load or a restart RSS is read: what the process holds once it has settled, not its peak. */
const RSS_SETTLE_MS = 2000;
/**
 * How long the first restart of each side is then left idle, its RSS read every second:
 * V8 gives back the garbage of a replay only when its memory reducer runs, some 25–30 s
 * after the heap stopped growing (measured), so the lowest reading in this time is the
 * settled figure.
 */
const RSS_IDLE_MS = 40_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mib = (bytes: number): string => (bytes < 1048576 ? `${(bytes / 1024).toFixed(0)} KiB` : `${(bytes / 1048576).toFixed(0)} MiB`);

/**
 * RSS per queued job: after `jobs` adds against the empty server, and for `jobs` more
 * added after those. The first figure carries what the process grows by once, whatever
 * the count (V8's young generation grown to its full size under load, code compiled
 * for the hot path); the second is only what each further job costs.
 */
async function memoryWorkload(cfg: BenchConfig): Promise<Row[]> {
  const jobs = cfg.jobs.memory;
  const further: Partial<Record<Protocol, { value: number; note: string }>> = {};
  const { values, notes } = await eachSide(cfg, 'memory', (protocol) =>
    onServer(
      () => defaultStart(cfg, protocol),
      async (p) => {
        await sleep(500);
        const before = p.rss();
        const first = await addLoad(protocol, p.port, jobs, cfg, UNBOUNDED_SECONDS);
        await sleep(RSS_SETTLE_MS);
        const after = p.rss();
        const second = await addLoad(protocol, p.port, jobs, cfg, UNBOUNDED_SECONDS);
        await sleep(RSS_SETTLE_MS);
        const afterBoth = p.rss();
        const errors = first.errors + second.errors;
        further[protocol] = {
          value: (afterBoth - after) / second.units,
          note: `RSS ${mib(after)} → ${mib(afterBoth)} for ${second.units.toLocaleString('en-US')} more jobs`,
        };
        return {
          value: (after - before) / first.units,
          note: `RSS ${mib(before)} → ${mib(after)} for ${first.units.toLocaleString('en-US')} jobs${errors ? `, ${errors} ERRORS` : ''}`,
        };
      },
    ),
  );
  return [
    {
      workload: '4. memory per queued job',
      metric: 'bytes (lower is better)',
      workq: values.workq,
      beanstalkd: values.beanstalk,
      digits: 0,
      note: sideNotes(notes),
    },
    {
      workload: '4. memory per queued job',
      metric: `bytes per job of ${jobs.toLocaleString('en-US')} more (lower is better)`,
      workq: further.workq?.value ?? null,
      beanstalkd: further.beanstalk?.value ?? null,
      digits: 0,
      note: sideNotes({ workq: further.workq?.note, beanstalk: further.beanstalk?.note }),
    },
  ];
}

function freshDir(cfg: BenchConfig, name: string): string {
  return mkdtempSync(path.join(cfg.tmp, `${name}-`));
}

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, f) => sum + statSync(path.join(dir, f)).size, 0);
}

async function durabilityWorkload(cfg: BenchConfig): Promise<Row[]> {
  const jobs = cfg.jobs.durability;
  const pairs = [
    { label: 'sync always vs `-f 0`', sync: 'always' as const, fsyncMs: 0 },
    { label: 'sync interval (1000 ms) vs `-f 1000`', sync: 'interval' as const, fsyncMs: 1000 },
  ];
  const rows: Row[] = [];
  for (const pair of pairs) {
    const dirs = { workq: freshDir(cfg, 'dur-workq'), beanstalk: freshDir(cfg, 'dur-beanstalk') };
    try {
      const { values, notes } = await interleaved(
        cfg,
        `durability ${pair.sync}`,
        (protocol) =>
          protocol === 'workq' ? startWorkq(cfg.workq!, { dir: dirs.workq, sync: pair.sync }) : startBeanstalkd({ dir: dirs.beanstalk, fsyncMs: pair.fsyncMs }),
        (protocol, p) => warmAdds(protocol, p.port, jobs, cfg),
        async (protocol, p) => {
          const r = await addLoad(protocol, p.port, jobs, cfg, cfg.seconds);
          return { value: r.perSecond, note: describe(r, jobs) };
        },
      );
      rows.push({
        workload: `5. durable add, ${pair.label}`,
        metric: 'ops/s',
        workq: values.workq,
        beanstalkd: values.beanstalk,
        digits: 0,
        note: sideNotes(notes),
      });
    } finally {
      rmSync(dirs.workq, { recursive: true, force: true });
      rmSync(dirs.beanstalk, { recursive: true, force: true });
    }
  }
  return rows;
}

/** What a restart workload loads and how it names its rows. */
interface RestartSpec {
  workload: string;
  jobs: number;
  /** `-cmdlog-seg-size` of the Workq-TS server; its default when undefined. */
  segmentSize?: number;
  /** Only Workq-TS: the beanstalkd side is left empty (the row's note says why). */
  workqOnly?: string;
}

/** Log files in a directory: Workq-TS segments or beanstalkd binlogs. */
function logFiles(dir: string): number {
  return readdirSync(dir).filter((name) => /^\d{9}\.log$|^binlog\.\d+$/.test(name)).length;
}

function replayWorkload(cfg: BenchConfig): Promise<Row[]> {
  return replayRestartWorkload(cfg, { workload: '6. replay', jobs: cfg.jobs.replay });
}

/**
 * A log of one record per segment (`-cmdlog-seg-size 15`, as the original server's own
 * system test runs it): replay pays the cost of a segment once per job. beanstalkd has
 * no equivalent: its `-s` below a few hundred bytes does not give one job per file (with
 * `-s 300`, 200 puts of 100 bytes left 898 binlog files, 732 of them 4 bytes long), so
 * the comparison is with an earlier Workq-TS (`--at REV`).
 */
function segmentsWorkload(cfg: BenchConfig): Promise<Row[]> {
  return replayRestartWorkload(cfg, {
    workload: '8. replay, one record per segment',
    jobs: cfg.jobs.segments,
    segmentSize: 15,
    workqOnly: 'no equivalent (its binlog files cannot be made to hold one job each); compare with an earlier Workq-TS run with --at',
  });
}

/**
 * Loads one log per side, then restarts each side on it `repeat` times in turns (an
 * empty-directory start before each, to take start-up out), like `interleaved`: one
 * restart is too short a sample on a shared machine.
 */
async function replayRestartWorkload(cfg: BenchConfig, spec: RestartSpec): Promise<Row[]> {
  const { jobs } = spec;
  const protocols = available(cfg).filter((p) => p === 'workq' || spec.workqOnly === undefined);
  const start = (protocol: Protocol, d: string, timeoutMs = 30000): Promise<ServerProc> =>
    protocol === 'workq'
      ? startWorkq(cfg.workq!, { dir: d, sync: 'interval', segmentSize: spec.segmentSize, timeoutMs })
      : startBeanstalkd({ dir: d, fsyncMs: 1000, timeoutMs });
  const dirs = new Map(protocols.map((p) => [p, { log: freshDir(cfg, `replay-${p}`), empty: freshDir(cfg, `empty-${p}`) }]));
  const loaded = new Map<Protocol, { units: number; bytes: number; files: number; rss: number }>();
  const samples = new Map<Protocol, Array<Sample & { seconds: number; rss: number }>>(protocols.map((p) => [p, []]));
  const settled = new Map<Protocol, { rss: number; afterMs: number }>();
  try {
    for (const protocol of protocols) {
      cfg.log(`${spec.workload}: loading ${protocol}…`);
      const { log } = dirs.get(protocol)!;
      const { r, rss } = await onServer(
        () => start(protocol, log),
        async (p) => {
          const r = await addLoad(protocol, p.port, jobs, cfg, UNBOUNDED_SECONDS);
          await sleep(RSS_SETTLE_MS);
          return { r, rss: p.rss() };
        },
      );
      loaded.set(protocol, { units: r.units, bytes: dirBytes(log), files: logFiles(log), rss });
    }
    for (let run = 0; run < cfg.repeat; run++) {
      for (const protocol of protocols) {
        const { log, empty } = dirs.get(protocol)!;
        const { units, bytes, files, rss: loadedRss } = loaded.get(protocol)!;
        const emptyMs = await onServer(
          () => start(protocol, empty),
          (p) => Promise.resolve(p.readyMs),
        );
        const { readyMs, replayed, rss } = await onServer(
          () => start(protocol, log, UNBOUNDED_SECONDS * 1000),
          async (p) => {
            const readyMs = p.readyMs;
            const replayed = await readyJobs(protocol, p.port, 'q');
            await sleep(RSS_SETTLE_MS);
            const rss = p.rss();
            if (run === 0 && spec.segmentSize === undefined) {
              let low = { rss, afterMs: RSS_SETTLE_MS };
              for (let ms = RSS_SETTLE_MS + 1000; ms <= RSS_IDLE_MS; ms += 1000) {
                await sleep(1000);
                const now = p.rss();
                if (now < low.rss) low = { rss: now, afterMs: ms };
              }
              settled.set(protocol, low);
            }
            return { readyMs, replayed, rss };
          },
        );
        const sample = {
          value: units / ((readyMs - emptyMs) / 1000),
          seconds: readyMs / 1000,
          rss,
          note: `${units.toLocaleString('en-US')} jobs, log ${mib(bytes)} in ${files.toLocaleString('en-US')} files, answered after ${(readyMs / 1000).toFixed(2)} s (empty log: ${(emptyMs / 1000).toFixed(2)} s), ${replayed ?? '?'} ready after restart, RSS ${mib(rss)} (${mib(loadedRss)} after the adds)`,
        };
        samples.get(protocol)!.push(sample);
        cfg.log(`${spec.workload} run ${run + 1}/${cfg.repeat}: ${protocol} ${fmt(sample.value)} (${sample.note})`);
      }
    }
  } finally {
    for (const { log, empty } of dirs.values()) {
      rmSync(log, { recursive: true, force: true });
      rmSync(empty, { recursive: true, force: true });
    }
  }
  const seconds: Record<Protocol, number | null> = { workq: null, beanstalk: null };
  const values: Record<Protocol, number | null> = { workq: null, beanstalk: null };
  const rss: Record<Protocol, number | null> = { workq: null, beanstalk: null };
  const rssNotes: Partial<Record<Protocol, string>> = {};
  const notes: Partial<Record<Protocol, string>> = {};
  for (const [protocol, list] of samples) {
    const median = medianSample(list);
    seconds[protocol] = median.seconds;
    values[protocol] = median.value;
    const rssRuns = list.map((s) => s.rss);
    rss[protocol] = rssRuns.sort((a, b) => a - b)[Math.floor(rssRuns.length / 2)]! / 1048576;
    const low = settled.get(protocol);
    const settledNote =
      low === undefined ? '' : `; first restart left idle ${RSS_IDLE_MS / 1000} s: lowest ${mib(low.rss)}, ${low.afterMs / 1000} s after it answered`;
    rssNotes[protocol] = `after the adds ${mib(loaded.get(protocol)!.rss)}; after each restart ${list.map((s) => mib(s.rss)).join(' / ')}${settledNote}`;
    notes[protocol] = `median run: ${median.note}${runsNote(list)}`;
  }
  if (spec.workqOnly !== undefined) notes.beanstalk = spec.workqOnly;
  return [
    {
      workload: spec.workload,
      metric: 's until the port answers, median run (lower is better)',
      workq: seconds.workq,
      beanstalkd: seconds.beanstalk,
      digits: 2,
      note: '',
    },
    {
      workload: spec.workload,
      metric: 'records/s, net of an empty-log start',
      workq: values.workq,
      beanstalkd: values.beanstalk,
      digits: 0,
      note: sideNotes(notes),
    },
    {
      workload: spec.workload,
      metric: `RSS MiB ${RSS_SETTLE_MS / 1000} s after the restart answered, median (lower is better)`,
      workq: rss.workq,
      beanstalkd: rss.beanstalk,
      digits: 0,
      note: sideNotes(rssNotes),
    },
  ];
}

/**
 * The supervisor's crash window in the restart workload: each kill comes after the window
 * of the one before has passed, so every kill is a first crash, never a repeated one.
 */
const RESTART_WINDOW_MS = 1000;

type RestartSide = Protocol | 'supervised' | 'floor';

/** Milliseconds between the first log lines saying `from` and `to` in a Workq-TS server's output (pino's `time`), or null. */
function loggedSpan(output: string, from: string, to: string): number | null {
  const times = new Map<string, number>();
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const { msg, time } = JSON.parse(line) as { msg?: string; time?: number };
    if (msg !== undefined && time !== undefined && !times.has(msg)) times.set(msg, time);
  }
  const [start, end] = [times.get(from), times.get(to)];
  return start === undefined || end === undefined ? null : end - start;
}

/** For a Workq-TS sample note: how much of the time the server itself spent between two of its log lines. */
function spanNote(output: string, from: string, to: string, what: string): string {
  const ms = loggedSpan(output, from, to);
  return ms === null ? '' : `, ${ms} ms of it ${what} (its log, '${from}' to '${to}')`;
}

/**
 * Restart after `kill -9` on a small log (`jobs.restart` jobs): in each of `kills` turns,
 * every side is killed once and timed from the SIGKILL until its port answers and every
 * job is ready again. Sides: the standalone Workq-TS server started again by hand,
 * beanstalkd on its binlog (`-b`), a supervised Workq-TS child that the supervisor
 * restarts by itself, and Node's floor (`node -e` of a bare net listen, from spawn
 * until its port answers). Each turn also times a second server started on a directory
 * the first holds, until it exits refused.
 */
async function killRestartWorkload(cfg: BenchConfig): Promise<Row[]> {
  const jobs = cfg.jobs.restart;
  const protocols = available(cfg);
  const samples = new Map<RestartSide, Sample[]>();
  const refusals = new Map<Protocol, Sample[]>();
  const push = <K>(map: Map<K, Sample[]>, key: K, sample: Sample, what: string): void => {
    map.set(key, [...(map.get(key) ?? []), sample]);
    cfg.log(`restart ${what}: ${String(key)} ${fmt(sample.value)} ms (${sample.note})`);
  };
  const dirs = new Map(protocols.map((p) => [p, freshDir(cfg, `restart-${p}`)]));
  const start = (protocol: Protocol, port: number): Promise<ServerProc> =>
    protocol === 'workq'
      ? startWorkq(cfg.workq!, { port, dir: dirs.get(protocol)!, sync: 'interval' })
      : startBeanstalkd({ port, dir: dirs.get(protocol)!, fsyncMs: 1000 });
  const secondOnHeldDir = async (protocol: Protocol): Promise<Sample> => {
    const port = await freePort();
    const dir = dirs.get(protocol)!;
    const { code, ms, output } =
      protocol === 'workq'
        ? await runToExit(process.execPath, workqArgs(cfg.workq!, port, { dir }))
        : await runToExit('beanstalkd', beanstalkdArgs(port, { dir }));
    const said =
      output
        .trim()
        .split('\n')
        .filter((line) => !line.startsWith('{'))
        .at(-1) ?? '';
    return { value: ms, note: `exit ${code}: ${said}${spanNote(output, 'starting', 'start failed', 'in the lock and the refusal')}` };
  };
  const procs = new Map<Protocol, ServerProc>();
  let supervisor: SupervisorProc | null = null;
  const supervisorDir = freshDir(cfg, 'restart-supervised');
  try {
    for (const protocol of protocols) {
      cfg.log(`restart: loading ${protocol}…`);
      const proc = await start(protocol, await freePort());
      procs.set(protocol, proc);
      await addLoad(protocol, proc.port, jobs, cfg, UNBOUNDED_SECONDS);
    }
    if (cfg.workq !== null) {
      cfg.log('restart: loading the supervised instance…');
      supervisor = await startSupervisor(cfg.workq, supervisorDir, await freePort(), path.join(supervisorDir, 'log'), {
        restartWindowMs: RESTART_WINDOW_MS,
        maxRestarts: cfg.kills + 1,
      });
      await addLoad('workq', supervisor.port, jobs, cfg, UNBOUNDED_SECONDS);
    }
    for (let kill = 0; kill < cfg.kills; kill++) {
      for (const protocol of protocols) {
        const before = procs.get(protocol)!;
        const killedAt = performance.now();
        await before.kill();
        const after = await start(protocol, before.port);
        procs.set(protocol, after);
        const back = await readyJobs(protocol, after.port, 'q');
        const inServer = protocol === 'workq' ? spanNote(after.output(), 'starting', 'listening', 'in the lock take-over, the replay and listen') : '';
        push(
          samples,
          protocol,
          { value: performance.now() - killedAt, note: `${back ?? '?'} of ${jobs.toLocaleString('en-US')} jobs ready${inServer}` },
          `kill ${kill + 1}/${cfg.kills}`,
        );
        push(refusals, protocol, await secondOnHeldDir(protocol), `held directory ${kill + 1}/${cfg.kills}`);
      }
      if (supervisor !== null) {
        const child = supervisor.childPid()!;
        const killedAt = performance.now();
        process.kill(child, 'SIGKILL');
        await untilDead(child);
        await untilAnswers(supervisor.port, WORKQ_PROBE, 30000);
        const back = await readyJobs('workq', supervisor.port, 'q');
        push(
          samples,
          'supervised',
          { value: performance.now() - killedAt, note: `${back ?? '?'} of ${jobs.toLocaleString('en-US')} jobs ready` },
          `kill ${kill + 1}/${cfg.kills}`,
        );
        await supervisor.nextChild(child);
        await new Promise((r) => setTimeout(r, RESTART_WINDOW_MS));
      }
      const floor = await startNodeFloor(await freePort());
      push(samples, 'floor', { value: floor.readyMs, note: 'from spawn' }, `${kill + 1}/${cfg.kills}`);
      await floor.stop();
    }
  } finally {
    for (const proc of procs.values()) await proc.stop();
    await supervisor?.stop();
    for (const dir of [...dirs.values(), supervisorDir]) rmSync(dir, { recursive: true, force: true });
  }
  const median = (list: Sample[] | undefined): number | null => (list === undefined ? null : medianSample(list).value);
  const noted = (list: Sample[] | undefined): string => (list === undefined ? '' : `median run: ${medianSample(list).note}${runsNote(list)}`);
  const beanstalkd = median(samples.get('beanstalk'));
  const metric = `ms from SIGKILL until the port answers and all ${jobs.toLocaleString('en-US')} jobs are ready, median of ${cfg.kills} kills (lower is better)`;
  return [
    {
      workload: '7. restart after kill -9, standalone',
      metric,
      workq: median(samples.get('workq')),
      beanstalkd,
      digits: 0,
      note: sideNotes({ workq: noted(samples.get('workq')), beanstalk: noted(samples.get('beanstalk')) }),
    },
    {
      workload: '7. restart after kill -9, supervised child',
      metric: `${metric}; the supervisor restarts it, each kill a first crash`,
      workq: median(samples.get('supervised')),
      beanstalkd,
      digits: 0,
      note: noted(samples.get('supervised')),
    },
    {
      workload: "7. Node's floor: `node -e` of a bare net listen",
      metric: 'ms from spawn until the port answers (beanstalkd column: its restart above)',
      workq: median(samples.get('floor')),
      beanstalkd,
      digits: 0,
      note: noted(samples.get('floor')),
    },
    {
      workload: '7. second server on a held directory',
      metric: `ms from spawn until it exits refused, median of ${cfg.kills} (lower is better)`,
      workq: median(refusals.get('workq')),
      beanstalkd: median(refusals.get('beanstalk')),
      digits: 0,
      note: sideNotes({ workq: noted(refusals.get('workq')), beanstalk: noted(refusals.get('beanstalk')) }),
    },
  ];
}

export const WORKLOADS: Record<WorkloadName, (cfg: BenchConfig) => Promise<Row[]>> = {
  add: addWorkload,
  cycle: cycleWorkload,
  latency: latencyWorkload,
  memory: memoryWorkload,
  durability: durabilityWorkload,
  replay: replayWorkload,
  restart: killRestartWorkload,
  segments: segmentsWorkload,
};
