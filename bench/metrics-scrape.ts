/**
 * What one scrape of an instance's metrics costs for a given number of jobs and queues:
 * an in-memory engine filled with --jobs ready jobs spread over --queues queues (a tenth
 * of them then leased, so every state list has some), then --repeat scrapes of a fresh
 * registry each (so no scrape reuses an earlier one's counts). Prints the median wall
 * time of a scrape and the longest single turn of the event loop during one, as one
 * JSON line; run it on two trees to compare them.
 *
 *   node --import=tsx bench/metrics-scrape.ts [ROOT] [--jobs 1000000] [--queues 1000] [--repeat 5]
 *
 * ROOT is the tree whose src/ is measured (default this one; a `git archive` of another
 * commit that has the metrics, for a comparison).
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { jobs: { type: 'string', default: '1000000' }, queues: { type: 'string', default: '1000' }, repeat: { type: 'string', default: '5' } },
});
const root = path.resolve(positionals[0] ?? '.');
const jobs = Number(values.jobs);
const queueCount = Number(values.queues);
const repeat = Number(values.repeat);

const { Engine } = (await import(path.join(root, 'src/jobs/engine.ts'))) as typeof import('../src/jobs/engine.js');
const { ServerStats } = (await import(path.join(root, 'src/server/stats.ts'))) as typeof import('../src/server/stats.js');
const { instanceRegistry } = (await import(path.join(root, 'src/metrics/instance-metrics.ts'))) as typeof import('../src/metrics/instance-metrics.js');

const engine = new Engine({ now: () => Date.now() });
const names = Array.from({ length: queueCount }, (_, i) => `q${String(i).padStart(7, '0')}`);
for (const name of names) engine.pause(name, false);
for (let i = 0; i < jobs; i++) {
  engine.add({
    id: randomUUID(),
    name: names[i % queueCount]!,
    ttr: 600_000,
    ttl: 3_600_000,
    priority: i % 3,
    maxAttempts: 0,
    maxFails: 0,
    payload: Buffer.from('p'),
  });
}
for (let i = 0; i < jobs / 10; i++) engine.lease([names[i % queueCount]!], 0, () => undefined);

const stats = new ServerStats();
stats.engine = engine;
const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor((list.length - 1) / 2)]!;
const scrapeMs: number[] = [];
const longestTurnMs: number[] = [];
for (let run = 0; run < repeat; run++) {
  const registry = instanceRegistry(stats, { instance: 'bench', maxQueues: 100 });
  let longest = 0;
  let last = performance.now();
  let counting = true;
  const tick = (): void => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (counting) setImmediate(tick);
  };
  setImmediate(tick);
  const started = performance.now();
  await registry.metrics();
  scrapeMs.push(performance.now() - started);
  counting = false;
  longest = Math.max(longest, performance.now() - last);
  longestTurnMs.push(longest);
}
console.log(
  JSON.stringify({
    root,
    jobs,
    queues: queueCount,
    scrapeMs: median(scrapeMs),
    longestTurnMs: median(longestTurnMs),
    runs: scrapeMs.map((ms) => Math.round(ms * 10) / 10),
  }),
);
