/**
 * The add path's cost without the network: a Connection fed pre-encoded `add` commands
 * through a stand-in socket, in 64 KiB reads (one per turn of the event loop), on an
 * in-memory engine; CPU time of this process per add. Less disturbed by other load on a
 * shared machine than a load over TCP, so it can tell a few percent apart.
 *
 *   node --import=tsx bench/metrics-inproc.ts ROOT [--jobs N] [--scrape-ms MS]
 *
 * ROOT is the tree whose src/ is measured (this one, or a `git archive` of another
 * commit); with --scrape-ms (a tree that has the metrics) the instance's metrics registry is
 * scraped that often while the adds run. Prints one JSON line.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { jobs: { type: 'string', default: '300000' }, 'scrape-ms': { type: 'string' } },
});
const root = path.resolve(positionals[0] ?? '.');
const jobs = Number(values.jobs);
const scrapeMs = values['scrape-ms'] === undefined ? null : Number(values['scrape-ms']);

const { Engine } = (await import(path.join(root, 'src/jobs/engine.ts'))) as typeof import('../src/jobs/engine.js');
const { Connection } = (await import(path.join(root, 'src/server/connection.ts'))) as typeof import('../src/server/connection.js');
// A tree from before the metrics has no src/server/stats.ts.
const statsModule = await import(path.join(root, 'src/server/stats.ts')).then(
  (m: typeof import('../src/server/stats.js')) => m,
  () => null,
);

// A tree from before the server-wide reply bound has no src/server/reply-budget.ts.
const budgetModule = await import(path.join(root, 'src/server/reply-budget.ts')).then(
  (m: typeof import('../src/server/reply-budget.js')) => m,
  () => null,
);

class StandInSocket extends EventEmitter {
  writableLength = 0;
  writableNeedDrain = false;
  destroyed = false;
  written = 0;
  write(chunk: Buffer): boolean {
    this.written += chunk.length;
    return true;
  }
  pause(): void {}
  resume(): void {}
  destroy(): void {}
  destroySoon(): void {}
}

const payload = 'x'.repeat(100);
const input = Buffer.from(Array.from({ length: jobs }, () => `add ${randomUUID()} q 60000 600000 100\r\n${payload}\r\n`).join(''), 'latin1');
const engine = new Engine({ now: () => Date.now() });
const stats = statsModule === null ? null : new statsModule.ServerStats();
if (stats !== null) stats.engine = engine;
if (stats !== null && budgetModule !== null) stats.replies = new budgetModule.ReplyBudget(64 * 1024 * 1024);
const socket = new StandInSocket();
const host = {
  engine,
  log: null,
  startedAt: Date.now(),
  // No secret and no idle timeout: the connection serves every add, as before auth existed.
  auth: null,
  idleTimeoutMs: 0,
  authTimeoutMs: 0,
  // The default bound: counted on every batch of replies, never reached here.
  replies: budgetModule === null ? undefined : (stats?.replies ?? new budgetModule.ReplyBudget(64 * 1024 * 1024)),
  stats,
  version: 'bench',
  uptimeSeconds: () => 0,
  activeClients: () => 1,
  afterWork: () => undefined,
  forget: () => undefined,
};
new Connection(socket as never, host as never);

let scrapes = 0;
let timer: NodeJS.Timeout | null = null;
if (scrapeMs !== null && stats !== null) {
  const { instanceRegistry } = (await import(path.join(root, 'src/metrics/instance-metrics.ts'))) as typeof import('../src/metrics/instance-metrics.js');
  const registry = instanceRegistry(stats, { instance: 'bench', maxQueues: 100 });
  const scrape = (): void => {
    void registry.metrics().then(() => scrapes++);
    timer = setTimeout(scrape, scrapeMs);
  };
  scrape();
}

const CHUNK = 64 * 1024;
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
for (let at = 0; at < input.length; at += CHUNK) {
  socket.emit('data', input.subarray(at, at + CHUNK));
  await new Promise((resolve) => setImmediate(resolve));
}
const cpu = process.cpuUsage(cpu0);
const seconds = (cpu.user + cpu.system) / 1e6;
if (timer !== null) clearTimeout(timer);
if (engine.jobCount !== jobs) throw new Error(`${engine.jobCount} jobs held, expected ${jobs}`);
console.log(JSON.stringify({ root, jobs, cpuSeconds: seconds, addsPerCpuSecond: jobs / seconds, wallSeconds: (performance.now() - wall0) / 1000, scrapes }));
