/**
 * Heap bytes the server allocates per command, without sockets:
 *
 *   node --expose-gc --min-semi-space-size=64 --max-semi-space-size=64 --import=tsx bench/alloc-inproc.ts [ROOT ...] [--ops N] [--repeat R] [--built] [--sites]
 *
 * Connections of the tree under ROOT (default: this one) on one in-memory engine, each
 * with a stand-in socket, are fed prebuilt input (so the bench itself allocates nothing
 * inside the measurement) for three shapes: `add` (one command per read, 100-byte
 * payload), a lease + complete cycle on one worker connection (a job added beforehand),
 * and a `run` round trip (the run read on the client's connection, the lease reply on a
 * waiting worker's, `complete` + the next `lease` read back, the run's reply written).
 * The semi-space is made large enough that no scavenge runs inside a measurement, so
 * the growth of V8's used heap over N operations is what they allocated (a GC inside
 * one is detected and the figure dropped). For `add` this includes the job kept in
 * memory; `add (kept)` is what remains of it after a full GC. `--sites` also runs a
 * sampling heap profile (objects freed by GC included) and prints the call sites that
 * allocated the most per operation. With several ROOTs they run in alternating turns.
 * `--built` loads ROOT/dist/src (after `npx tsc -p tsconfig.json` in ROOT).
 */
import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import inspector from 'node:inspector';
import os from 'node:os';
import path from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { pino } from 'pino';
import type { CommandLog } from '../src/cmdlog/index.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    ops: { type: 'string', default: '20000' },
    repeat: { type: 'string', default: '5' },
    built: { type: 'boolean', default: false },
    sites: { type: 'boolean', default: false },
  },
});
const roots = (positionals.length > 0 ? positionals : ['.']).map((r) => path.resolve(r));
const ops = Number(values.ops);
const repeat = Number(values.repeat);
const gc = (globalThis as { gc?: () => void }).gc;

let gcCount = 0;
/** GCs V8 ran on its own (the forced ones of --expose-gc are the bench's). */
new PerformanceObserver((list) => {
  for (const entry of list.getEntries())
    if (((entry as unknown as { detail: { flags: number } }).detail.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) === 0) gcCount++;
}).observe({ entryTypes: ['gc'] });

class StandInSocket extends EventEmitter {
  writableLength = 0;
  writableNeedDrain = false;
  destroyed = false;
  writes = 0;
  write(): boolean {
    this.writes++;
    return true;
  }
  pause(): void {}
  resume(): void {}
  setTimeout(): void {}
  destroy(): void {}
  end(): void {}
}

const PAYLOAD = 'x'.repeat(100);
const logs: CommandLog[] = [];
const dirs: string[] = [];
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
let serial = 0;
const nextId = (): string => `00000000-0000-4000-8000-${(serial++).toString(16).padStart(12, '0')}`;
const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

function moduleOf(root: string, name: string): string {
  return values.built ? path.join(root, 'dist/src', `${name}.js`) : path.join(root, 'src', `${name}.ts`);
}

/** One shape on one tree: `prepare(n)` builds its input (outside the measurement), `run()` feeds it. */
interface Shape {
  prepare(n: number): void;
  run(): void;
}

async function shapes(root: string): Promise<Record<string, Shape>> {
  const { Engine } = (await import(moduleOf(root, 'jobs/engine'))) as typeof import('../src/jobs/engine.js');
  const { Connection } = (await import(moduleOf(root, 'server/connection'))) as typeof import('../src/server/connection.js');
  const { ServerStats } = (await import(moduleOf(root, 'server/stats'))) as typeof import('../src/server/stats.js');
  const { openCommandLog } = (await import(moduleOf(root, 'cmdlog/index'))) as typeof import('../src/cmdlog/index.js');
  const connect = (engine: InstanceType<typeof Engine>, log: CommandLog | null = null): StandInSocket => {
    const stats = new ServerStats();
    stats.engine = engine;
    const host = {
      engine,
      log,
      startedAt: Date.now(),
      auth: null,
      idleTimeoutMs: 0,
      authTimeoutMs: 0,
      replies: stats.replies,
      stats,
      version: 'bench',
      uptimeSeconds: () => 0,
      activeClients: () => 2,
      afterWork: () => undefined,
      forget: () => undefined,
    };
    const socket = new StandInSocket();
    new Connection(socket as never, host);
    return socket;
  };

  const addEngine = new Engine({ now: () => Date.now() });
  const adder = connect(addEngine);
  let addInput: Buffer[] = [];

  const durableEngine = new Engine({ now: () => Date.now() });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'alloc-inproc-'));
  dirs.push(dir);
  const log = await openCommandLog(
    { dir, sync: 'interval', syncIntervalMs: 1000, segmentSize: 64 << 20, cleanIntervalMs: 60_000, logger: pino({ level: 'silent' }) },
    durableEngine,
  );
  durableEngine.setJournal(log);
  logs.push(log);
  const durableAdder = connect(durableEngine, log);
  let durableInput: Buffer[] = [];

  const cycleEngine = new Engine({ now: () => Date.now() });
  const feeder = connect(cycleEngine);
  const cycler = connect(cycleEngine);
  let cycleInput: Buffer[] = [];
  const lease = bytes('lease cyc 0\r\n');

  const runEngine = new Engine({ now: () => Date.now() });
  const client = connect(runEngine);
  const worker = connect(runEngine);
  worker.emit('data', bytes('lease lat 1000\r\n'));
  await turn();
  let runInput: Buffer[] = [];
  let ackInput: Buffer[] = [];

  return {
    add: {
      prepare(n) {
        addInput = Array.from({ length: n }, () => bytes(`add ${nextId()} add 60000 3600000 100\r\n${PAYLOAD}\r\n`));
      },
      run() {
        for (const chunk of addInput) adder.emit('data', chunk);
      },
    },
    'durable add': {
      prepare(n) {
        durableInput = Array.from({ length: n }, () => bytes(`add ${nextId()} add 60000 3600000 100\r\n${PAYLOAD}\r\n`));
      },
      run() {
        for (const chunk of durableInput) durableAdder.emit('data', chunk);
      },
    },
    'lease+complete': {
      prepare(n) {
        const ids = Array.from({ length: n }, nextId);
        for (const id of ids) feeder.emit('data', bytes(`add ${id} cyc 60000 3600000 100\r\n${PAYLOAD}\r\n`));
        cycleInput = ids.map((id) => bytes(`complete ${id} 0\r\n\r\n`));
      },
      run() {
        for (const chunk of cycleInput) {
          cycler.emit('data', lease);
          cycler.emit('data', chunk);
        }
      },
    },
    run: {
      prepare(n) {
        const ids = Array.from({ length: n }, nextId);
        runInput = ids.map((id) => bytes(`run ${id} lat 60000 1000 100\r\n${PAYLOAD}\r\n`));
        ackInput = ids.map((id) => bytes(`complete ${id} 0\r\n\r\nlease lat 1000\r\n`));
      },
      run() {
        for (let i = 0; i < runInput.length; i++) {
          const before = client.writes;
          client.emit('data', runInput[i]!);
          worker.emit('data', ackInput[i]!);
          if (client.writes !== before + 1) throw new Error('the run was not answered');
        }
      },
    },
  };
}

/** Heap growth per operation, or NaN when a GC ran inside the measurement. */
async function measure(shape: Shape, n: number): Promise<number> {
  shape.prepare(n);
  gc?.();
  await turn();
  const gcBefore = gcCount;
  const before = v8.getHeapStatistics().used_heap_size;
  shape.run();
  const after = v8.getHeapStatistics().used_heap_size;
  await turn();
  return gcCount !== gcBefore ? NaN : (after - before) / n;
}

function kept(shape: Shape, n: number): number {
  shape.prepare(n);
  gc?.();
  const before = v8.getHeapStatistics().used_heap_size;
  shape.run();
  gc?.();
  return (v8.getHeapStatistics().used_heap_size - before) / n;
}

const post = <T>(session: inspector.Session, method: string, params?: object): Promise<T> =>
  new Promise((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result as T))));

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

async function sites(shape: Shape, n: number): Promise<string[]> {
  shape.prepare(n);
  const session = new inspector.Session();
  session.connect();
  await post(session, 'HeapProfiler.enable');
  await post(session, 'HeapProfiler.startSampling', { samplingInterval: 128, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  shape.run();
  const { profile } = await post<{ profile: { head: ProfileNode } }>(session, 'HeapProfiler.stopSampling');
  session.disconnect();
  const bySite = new Map<string, number>();
  const walk = (node: ProfileNode): void => {
    const f = node.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${path.basename(f.url)}:${f.lineNumber + 1}`;
    if (node.selfSize > 0) bySite.set(key, (bySite.get(key) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child);
  };
  walk(profile.head);
  return [...bySite]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([key, size]) => `    ${(size / n).toFixed(1).padStart(7)} B  ${key}`);
}

if (gc === undefined) console.error('(run with --expose-gc for the kept-bytes row and steadier figures)');
const trees = await Promise.all(roots.map(shapes));
const names = Object.keys(trees[0]!);
for (const t of trees) for (const name of names) await measure(t[name]!, Math.min(ops, 5000));
const results = roots.map(() => new Map<string, number[]>(names.map((name) => [name, []])));
for (let r = 0; r < repeat; r++) {
  for (let i = 0; i < trees.length; i++) for (const name of names) results[i]!.get(name)!.push(await measure(trees[i]![name]!, ops));
}
const median = (list: number[]): number => {
  const ok = list.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return ok.length === 0 ? NaN : ok[Math.floor((ok.length - 1) / 2)]!;
};
for (let i = 0; i < roots.length; i++) {
  const rows = names.map((name) => `${name} ${median(results[i]!.get(name)!).toFixed(0)} B`);
  if (gc !== undefined) rows.push(`add (kept) ${kept(trees[i]!.add!, ops).toFixed(0)} B`);
  console.log(`${roots[i]}: allocated per operation: ${rows.join(', ')}`);
  if (values.sites) {
    for (const name of names) console.log(`  ${name}, top call sites:\n${(await sites(trees[i]![name]!, ops)).join('\n')}`);
  }
}
for (const log of logs) await log.close();
for (const dir of dirs) await rm(dir, { recursive: true, force: true });
