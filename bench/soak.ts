/**
 * Soak: mixed load through the supervisor for a while, with kill -9 of the serving child
 * every few seconds. Producers add, workers lease, complete and delete; every reply that
 * arrived is remembered. At the end each acknowledged job is looked up: an acknowledged
 * add must still be known unless its delete was acknowledged, an acknowledged complete
 * must still show its success, an acknowledged delete must be gone. The child's RSS is
 * sampled throughout and must stay flat (the queue's depth is bounded, so the jobs held
 * are too). With --tls every client goes through the instance's TLS port (a self-signed
 * certificate made for the run), so each kill also tests the TLS connections held by the
 * supervisor and handed to the next child. The errors the clients saw are counted by message
 * (a stalled TLS handshake shows as "connect timeout"). Not part of `npm test`:
 * `node --import=tsx bench/soak.ts --minutes 2 [--tls]`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { NotFoundError, TimeoutError, WorkqClient } from '../src/client/index.js';
import { makeCertificate } from '../test/helpers/tls.js';
import { freePort, startSupervisor, untilDead, workqLauncher } from './procs.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    'kill-every': { type: 'string', default: '5' },
    producers: { type: 'string', default: '4' },
    workers: { type: 'string', default: '4' },
    depth: { type: 'string', default: '20000' },
    tls: { type: 'boolean', default: false },
  },
});
const runMs = Number(values.minutes) * 60_000;
const killEveryMs = Number(values['kill-every']) * 1000;
const maxDepth = Number(values.depth);
const PAYLOAD = Buffer.alloc(1024, 'p');
const QUEUE = 'soak';

const launcher = workqLauncher();
if (launcher === null) throw new Error('no Workq-TS build: run npx tsc -p tsconfig.json first');
const dir = mkdtempSync(path.join(os.tmpdir(), 'workq-soak-'));
const port = await freePort();
// Each kill here is deliberate: a window shorter than the kill interval makes every one a
// first crash, restarted at once, so the restart policy's backoff is not what is measured.
const certificate = values.tls ? await makeCertificate(dir, 'soak') : null;
const tlsPort = certificate === null ? null : await freePort();
const supervisor = await startSupervisor(
  launcher,
  dir,
  port,
  path.join(dir, 'data'),
  { restartWindowMs: Math.max(1, killEveryMs - 1000) },
  certificate === null ? {} : { tls: { port: tlsPort, cert: certificate.certPath, key: certificate.keyPath } },
);
const client = new WorkqClient({
  servers: [`127.0.0.1:${tlsPort ?? port}`],
  maxBackoffMs: 200,
  ...(certificate === null ? {} : { tls: { ca: certificate.cert } }),
});

const added = new Set<string>();
const completed = new Set<string>();
const deleted = new Set<string>();
/** Deletes sent, acknowledged or not: one whose reply was cut by a kill may still have been done. */
const deleting = new Set<string>();
let unanswered = 0;
const errors = new Map<string, number>();
function failed(err: unknown): void {
  unanswered++;
  const message = err instanceof Error ? err.message : String(err);
  errors.set(message, (errors.get(message) ?? 0) + 1);
}
let stop = false;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function produce(): Promise<void> {
  while (!stop) {
    if (added.size - deleted.size > maxDepth) {
      await sleep(10);
      continue;
    }
    const id = randomUUID();
    try {
      await client.add(QUEUE, PAYLOAD, { id, ttlMs: 24 * 3600_000 });
      added.add(id);
    } catch (err) {
      failed(err);
      await sleep(20);
    }
  }
}

async function work(): Promise<void> {
  while (!stop) {
    try {
      const job = await client.lease(QUEUE, 1000);
      await client.complete(job.id, 'done');
      completed.add(job.id);
      deleting.add(job.id);
      await client.delete(job.id);
      deleted.add(job.id);
    } catch (err) {
      if (!(err instanceof TimeoutError)) {
        failed(err);
        await sleep(20);
      }
    }
  }
}

function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'latin1')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? 0) * 1024;
}

/** Bytes of the instance's log segments. */
function logBytes(): number {
  const data = path.join(dir, 'data');
  return readdirSync(data)
    .filter((f) => f.endsWith('.log'))
    .reduce((sum, f) => {
      try {
        return sum + statSync(path.join(data, f)).size;
      } catch {
        return sum; // removed by a cleaning pass meanwhile
      }
    }, 0);
}

/** The replay a child reported in its 'cmdlog: replay done' line: records and milliseconds. */
function replayOf(pid: number): { records: number; ms: number } | null {
  const line = supervisor
    .output()
    .split('\n')
    .find((l) => l.startsWith('{') && l.includes('"cmdlog: replay done"') && l.includes(`"pid":${pid},`));
  if (line === undefined) return null;
  const { records, ms } = JSON.parse(line) as { records: number; ms: number };
  return { records, ms };
}

const samples: Array<{ s: number; rssMiB: number; held: number; logMiB: number }> = [];
const replays: Array<{ s: number; records: number; ms: number }> = [];
const started = performance.now();
const sampler = setInterval(() => {
  const pid = supervisor.childPid();
  if (pid === null) return;
  try {
    const rss = rssOf(pid);
    // A child killed a moment ago (a zombie) has no RSS line: its successor is sampled next time.
    if (rss === 0) return;
    samples.push({
      s: Math.round((performance.now() - started) / 1000),
      rssMiB: Math.round(rss / 2 ** 20),
      held: added.size - deleted.size,
      logMiB: Math.round((logBytes() / 2 ** 20) * 10) / 10,
    });
  } catch {
    // The child was just killed: the next sample reads its successor.
  }
}, 5000);

const READY_WAIT_MS = 300_000;
let kills = 0;
async function kill(): Promise<void> {
  while (!stop) {
    await sleep(killEveryMs);
    if (stop) return;
    const pid = supervisor.childPid();
    if (pid === null) continue;
    process.kill(pid, 'SIGKILL');
    await untilDead(pid);
    // A replay of a log that grew (were the cleaner to fall behind) may take more than the harness's default 30 s.
    const next = await supervisor.nextChild(pid, READY_WAIT_MS);
    kills++;
    const replay = replayOf(next);
    if (replay !== null) replays.push({ s: Math.round((performance.now() - started) / 1000), ...replay });
  }
}

const load = [...Array.from({ length: Number(values.producers) }, produce), ...Array.from({ length: Number(values.workers) }, work), kill()];
await sleep(runMs);
stop = true;
await Promise.all(load);
clearInterval(sampler);

/**
 * What the server no longer has of what it acknowledged, by the acknowledgement it broke:
 * 'add' (the job is gone though no delete was sent: one sent whose reply a kill cut may
 * have been done), 'complete' (its success is not there), 'delete' (a job whose delete was
 * acknowledged is back).
 */
type Verdict = 'ok' | 'add' | 'complete' | 'delete';
async function check(id: string): Promise<Verdict> {
  try {
    const result = await client.result(id, 0);
    if (deleted.has(id)) return 'delete';
    return completed.has(id) && !result.success ? 'complete' : 'ok';
  } catch (err) {
    if (err instanceof NotFoundError) return deleting.has(id) ? 'ok' : 'add';
    if (err instanceof TimeoutError) return deleted.has(id) ? 'delete' : completed.has(id) ? 'complete' : 'ok';
    throw err;
  }
}
const ids = [...added];
const lostBy = { add: 0, complete: 0, delete: 0 };
const lostIds: Array<{ id: string; broke: Verdict }> = [];
for (let i = 0; i < ids.length; i += 1000) {
  const batch = ids.slice(i, i + 1000);
  const verdicts = await Promise.all(batch.map(check));
  verdicts.forEach((verdict, k) => {
    if (verdict === 'ok') return;
    lostBy[verdict]++;
    lostIds.push({ id: batch[k]!, broke: verdict });
  });
}
const lost = lostIds.length;
await client.close();
await supervisor.stop();
// A run that lost something keeps its log and the supervisor's last output for a look at the lost IDs.
if (lost === 0) rmSync(dir, { recursive: true, force: true });
else writeFileSync(path.join(dir, 'supervisor.out'), supervisor.output());

const third = Math.max(1, Math.floor(samples.length / 3));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const early = median(samples.slice(0, third).map((x) => x.rssMiB));
const late = median(samples.slice(-third).map((x) => x.rssMiB));
console.log(
  JSON.stringify(
    {
      minutes: Number(values.minutes),
      kills,
      addsAcknowledged: added.size,
      completesAcknowledged: completed.size,
      deletesAcknowledged: deleted.size,
      tls: values.tls,
      unanswered,
      errors: Object.fromEntries(errors),
      lost,
      lostBy,
      lostIds: lostIds.slice(0, 20),
      keptDir: lost === 0 ? null : dir,
      rssMiB: { firstThirdMedian: early, lastThirdMedian: late, max: Math.max(...samples.map((x) => x.rssMiB)) },
      logMiB: { firstThirdMedian: median(samples.slice(0, third).map((x) => x.logMiB)), lastThirdMedian: median(samples.slice(-third).map((x) => x.logMiB)) },
      replayMs: {
        firstThirdMedian: median(replays.slice(0, Math.max(1, Math.floor(replays.length / 3))).map((x) => x.ms)),
        lastThirdMedian: median(replays.slice(-Math.max(1, Math.floor(replays.length / 3))).map((x) => x.ms)),
        max: Math.max(0, ...replays.map((x) => x.ms)),
      },
      samples,
      replays,
    },
    null,
    1,
  ),
);
process.exit(lost === 0 ? 0 : 1);
