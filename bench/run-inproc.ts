/**
 * The server's own share of one `run` round trip, without sockets:
 *
 *   node --import=tsx bench/run-inproc.ts [ROOT ...] [--rounds N] [--repeat R] [--built]
 *
 * Two Connections of the tree under ROOT (default: this one) on one in-memory engine,
 * each with a stand-in socket: a `run` is fed to the client's connection, the lease
 * reply it causes on the worker's connection is answered with `complete <id> 0` + the
 * next `lease`, and the round ends when the client's connection writes the run's reply.
 * Each feed happens in its own turn of the event loop, as socket reads do. Reported per
 * round: the time from the `run` read to the worker's write (hop 1) and from the
 * `complete` read to the client's write (hop 2), which are the server's part of the
 * critical path, as means and as the median single hop (p50, which a busy machine
 * moves far less), and the process's CPU time per round (everything, GC included). With
 * several ROOTs (e.g. a `git archive` of another commit) they run in alternating turns.
 * `--built` loads ROOT/dist/src (the JavaScript the server runs, after `npx tsc -p
 * tsconfig.json` in ROOT) instead of ROOT/src through tsx.
 */
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '50000' }, repeat: { type: 'string', default: '5' }, built: { type: 'boolean', default: false } },
});
const roots = (positionals.length > 0 ? positionals : ['.']).map((r) => path.resolve(r));
const rounds = Number(values.rounds);
const repeat = Number(values.repeat);

class StandInSocket extends EventEmitter {
  writableLength = 0;
  writableNeedDrain = false;
  destroyed = false;
  constructor(private readonly onWrite: (chunk: Buffer) => void) {
    super();
  }
  write(chunk: Buffer): boolean {
    this.onWrite(chunk);
    return true;
  }
  pause(): void {}
  resume(): void {}
  setTimeout(): void {}
  destroy(): void {}
  end(): void {}
}

interface Measured {
  hop1: number;
  hop2: number;
  /** Medians of the single hops: a neighbour's burst moves the means above, hardly these. */
  hop1P50: number;
  hop2P50: number;
  cpuUs: number;
}

const PAYLOAD = 'x'.repeat(100);
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A module of ROOT's server, as source or as built. */
function moduleOf(root: string, name: string): string {
  return values.built ? path.join(root, 'dist/src', `${name}.js`) : path.join(root, 'src', `${name}.ts`);
}

async function side(root: string): Promise<(n: number) => Promise<Measured>> {
  const { Engine } = (await import(moduleOf(root, 'jobs/engine'))) as typeof import('../src/jobs/engine.js');
  const { Connection } = (await import(moduleOf(root, 'server/connection'))) as typeof import('../src/server/connection.js');
  const { ServerStats } = (await import(moduleOf(root, 'server/stats'))) as typeof import('../src/server/stats.js');
  const engine = new Engine({ now: () => Date.now() });
  const { ReplyBudget } = (await import(moduleOf(root, 'server/reply-budget'))) as typeof import('../src/server/reply-budget.js');
  const stats = new ServerStats();
  stats.engine = engine;
  // The default bound, as a server has it: its checks are on the measured path.
  stats.replies = new ReplyBudget(64 * 1024 * 1024);
  const host = {
    engine,
    log: null,
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
  let leased: Buffer | null = null;
  let answered = false;
  let writeAt = 0;
  const worker = new StandInSocket((chunk) => {
    if (chunk.length > 20) {
      leased = chunk;
      writeAt = performance.now();
    }
  });
  const client = new StandInSocket(() => {
    answered = true;
    writeAt = performance.now();
  });
  new Connection(client as never, host);
  new Connection(worker as never, host);
  let serial = 0;
  worker.emit('data', Buffer.from('lease lat 1000\r\n'));
  await turn();
  return async (n) => {
    let hop1 = 0;
    let hop2 = 0;
    const hops1 = new Float64Array(n);
    const hops2 = new Float64Array(n);
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const id = `00000000-0000-4000-8000-${(serial++).toString(16).padStart(12, '0')}`;
      const run = Buffer.from(`run ${id} lat 60000 1000 100\r\n${PAYLOAD}\r\n`, 'latin1');
      leased = null;
      let t = performance.now();
      client.emit('data', run);
      if (leased === null) throw new Error('the run reached no worker');
      hop1 += writeAt - t;
      hops1[i] = writeAt - t;
      await turn();
      const ack = Buffer.from(`complete ${(leased as Buffer).toString('latin1', 7, 43)} 0\r\n\r\nlease lat 1000\r\n`, 'latin1');
      answered = false;
      t = performance.now();
      worker.emit('data', ack);
      if (!answered) throw new Error('the run was not answered');
      hop2 += writeAt - t;
      hops2[i] = writeAt - t;
      await turn();
    }
    const cpu = process.cpuUsage(cpu0);
    const p50 = (hops: Float64Array): number => hops.sort()[Math.floor((n - 1) / 2)]! * 1000;
    return { hop1: (hop1 / n) * 1000, hop2: (hop2 / n) * 1000, hop1P50: p50(hops1), hop2P50: p50(hops2), cpuUs: (cpu.user + cpu.system) / n };
  };
}

const sides = await Promise.all(roots.map(side));
for (const s of sides) await s(Math.min(10000, rounds));
const results = roots.map(() => [] as Measured[]);
for (let r = 0; r < repeat; r++) {
  for (let i = 0; i < sides.length; i++) results[i]!.push(await sides[i]!(rounds));
}
const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor((list.length - 1) / 2)]!;
for (let i = 0; i < roots.length; i++) {
  const m = results[i]!;
  console.log(
    `${roots[i]}: hop 1 (run read → lease written) ${median(m.map((x) => x.hop1)).toFixed(2)} µs (p50 ${median(m.map((x) => x.hop1P50)).toFixed(2)}), hop 2 (complete read → run reply written) ${median(m.map((x) => x.hop2)).toFixed(2)} µs (p50 ${median(m.map((x) => x.hop2P50)).toFixed(2)}), CPU per round ${median(m.map((x) => x.cpuUs)).toFixed(2)} µs (runs: ${m.map((x) => x.cpuUs.toFixed(2)).join(' / ')})`,
  );
}
