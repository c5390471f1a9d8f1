/**
 * What TLS costs: add throughput of one Workq-TS server over plain TCP and over TLS
 * (a TLS listener beside the plain one, same process), measured in turns in the same
 * session, median of the runs. `node --import=tsx bench/tls.ts [--jobs N] [--repeat R]`.
 * The certificate is the tests' self-signed P-256 one (test/helpers/tls.ts), made for the run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { Pipeline, Tally, runLoad, type Dial, type LoadResult } from './loadgen.js';
import { freePort, startWorkq, workqLauncher, ROOT } from './procs.js';
import { workqAdds } from './wire.js';
import { makeCertificate } from '../test/helpers/tls.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '200000' },
    repeat: { type: 'string', default: '5' },
    conns: { type: 'string', default: '4' },
    depth: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '20' },
  },
});
const jobs = Number(values.jobs);
const repeat = Number(values.repeat);
const conns = Number(values.conns);
const depth = Number(values.depth);
const seconds = Number(values.seconds);

const launcher = workqLauncher();
if (launcher === null) throw new Error('Workq-TS server not found');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'workq-bench-tls-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const { certPath, keyPath, cert: ca } = await makeCertificate(tmp, 'bench');

const tlsDial: Dial = (port) =>
  new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca });
    socket.once('secureConnect', () => {
      socket.setNoDelay(true);
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });

function addLoad(port: number, count: number, queue: string, dial?: Dial): Promise<LoadResult> {
  const tally = new Tally(count);
  const per = Math.ceil(count / conns);
  const conversations = Array.from({ length: conns }, (_, i) => new Pipeline('workq', workqAdds(i, per, queue), depth, tally));
  return runLoad(port, conversations, tally, seconds, dial);
}

/** CPU time (user + system) the process has used, in milliseconds, from /proc/PID/stat. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'latin1' }).trim());
}

interface Run {
  load: LoadResult;
  /** Server CPU microseconds per acknowledged add: what the transport costs the server, whatever else runs on the machine. */
  cpuUsPerAdd: number;
}

async function measured(pid: number, load: () => Promise<LoadResult>): Promise<Run> {
  const before = cpuMs(pid);
  const result = await load();
  return { load: result, cpuUsPerAdd: ((cpuMs(pid) - before) * 1000) / result.units };
}

const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor((list.length - 1) / 2)]!;

const tlsPort = await freePort();
process.env['WORKQ_TLS_CERT'] = certPath;
process.env['WORKQ_TLS_KEY'] = keyPath;
process.env['WORKQ_TLS_PORT'] = String(tlsPort);
const server = await startWorkq(launcher);
const loadAtStart = os.loadavg()[0]!.toFixed(2);
const runs: Record<'plain' | 'tls', Run[]> = { plain: [], tls: [] };
try {
  await addLoad(server.port, 20000, 'warm');
  await addLoad(tlsPort, 20000, 'warm', tlsDial);
  for (let r = 0; r < repeat; r++) {
    // A fresh queue per run keeps both sides adding into queues of the same size.
    runs.plain.push(await measured(server.pid, () => addLoad(server.port, jobs, `plain${r}`)));
    runs.tls.push(await measured(server.pid, () => addLoad(tlsPort, jobs, `tls${r}`, tlsDial)));
    const [p, s] = [runs.plain[r]!, runs.tls[r]!];
    console.error(
      `[bench-tls] run ${r + 1}: plain ${Math.round(p.load.perSecond)} ops/s ${p.cpuUsPerAdd.toFixed(2)} µs/add, TLS ${Math.round(s.load.perSecond)} ops/s ${s.cpuUsPerAdd.toFixed(2)} µs/add`,
    );
  }
} finally {
  await server.stop();
}

const problems = [...runs.plain, ...runs.tls].map((r) => r.load).filter((r) => r.errors > 0 || r.closedEarly || r.units < jobs);
const plain = median(runs.plain.map((r) => r.load.perSecond));
const secure = median(runs.tls.map((r) => r.load.perSecond));
const plainCpu = median(runs.plain.map((r) => r.cpuUsPerAdd));
const secureCpu = median(runs.tls.map((r) => r.cpuUsPerAdd));
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'latin1' }).trim();
const list = (side: Run[]): string => side.map((r) => Math.round(r.load.perSecond).toLocaleString('en-US')).join(', ');
const cpuList = (side: Run[]): string => side.map((r) => r.cpuUsPerAdd.toFixed(2)).join(', ');
const report = [
  `# TLS cost, ${new Date().toISOString()}`,
  '',
  `- commit ${commit}, server ${launcher.how}, Node.js ${process.version}, ${os.availableParallelism()} CPUs`,
  `- add, ${conns} connections × ${depth} in flight, ${jobs.toLocaleString('en-US')} jobs per run, ${repeat} runs per side in turns, median; TLS 1.3, P-256 certificate`,
  `- load average (1 min) at start ${loadAtStart}, at end ${os.loadavg()[0]!.toFixed(2)}`,
  '',
  '| transport | add ops/s (median) | runs | server CPU µs per add (median) | runs |',
  '| --- | ---: | --- | ---: | --- |',
  `| plain TCP | ${Math.round(plain).toLocaleString('en-US')} | ${list(runs.plain)} | ${plainCpu.toFixed(2)} | ${cpuList(runs.plain)} |`,
  `| TLS | ${Math.round(secure).toLocaleString('en-US')} | ${list(runs.tls)} | ${secureCpu.toFixed(2)} | ${cpuList(runs.tls)} |`,
  `| TLS / plain | ${(secure / plain).toFixed(2)}× | | ${(secureCpu / plainCpu).toFixed(2)}× | |`,
  '',
  problems.length > 0
    ? `**${problems.length} run(s) had errors, closed early or were time-bounded: not valid.**`
    : 'Every run completed its jobs without errors.',
  '',
].join('\n');
writeFileSync(path.join(ROOT, 'bench/results/tls-latest.md'), report);
console.log(report);
