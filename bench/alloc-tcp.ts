/**
 * Heap bytes the server process allocates per `run` round trip over TCP, sockets and
 * Node's stream machinery included:
 *
 *   node --import=tsx bench/alloc-tcp.ts [ROOT ...] [--rounds N] [--repeat R]
 *
 * Starts ROOT/dist/src/cli/workq-server.js (after `npx tsc -p tsconfig.json` in ROOT;
 * default: this tree) under `--trace-gc`, runs workload 3's round trips against it
 * (bench/latency.ts), and adds up, from V8's trace, the heap that grew between each
 * GC and the next one during the load: allocated bytes per round and rounds per
 * scavenge, the GCs that make the `run` p99. With several ROOTs they run in turn.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { measureLatency } from './latency.js';
import { freePort, untilAnswers, WORKQ_PROBE } from './procs.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '30000' }, repeat: { type: 'string', default: '3' } },
});
const roots = (positionals.length > 0 ? positionals : ['.']).map((r) => path.resolve(r));
const rounds = Number(values.rounds);
const repeat = Number(values.repeat);

const GC_LINE = /(Scavenge|Mark-Compact)\S* ([\d.]+) \([\d.]+\) -> ([\d.]+) \(/;

interface Measured {
  bytesPerRound: number;
  roundsPerScavenge: number;
  p50: number;
  p99: number;
}

async function measure(root: string): Promise<Measured> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--trace-gc', path.join(root, 'dist/src/cli/workq-server.js'), '-listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let trace = '';
  /** The GC lines of V8's trace, and how many came before the load. */
  const lines: string[] = [];
  let loadStarted: number;
  child.stdout.on('data', (chunk: Buffer) => {
    trace += chunk.toString('latin1');
    const end = trace.lastIndexOf('\n');
    if (end < 0) return;
    for (const line of trace.slice(0, end).split('\n')) if (GC_LINE.test(line)) lines.push(line);
    trace = trace.slice(end + 1);
  });
  try {
    await untilAnswers(port, WORKQ_PROBE, 30000, () => (child.exitCode !== null ? 'exited during start-up' : null));
    loadStarted = lines.length;
    const result = await measureLatency('workq', port, rounds, 120, 'alloc');
    await new Promise((resolve) => setTimeout(resolve, 200));
    let allocatedMb = 0;
    let scavenges = 0;
    let after: number | null = null;
    for (const line of lines.slice(loadStarted)) {
      const m = GC_LINE.exec(line);
      if (m === null) continue;
      if (after !== null) allocatedMb += Number(m[2]) - after;
      after = Number(m[3]);
      if (m[1] === 'Scavenge') scavenges++;
    }
    // The load's warm-up rounds (latency.ts) count too; only what lies between the first and the last GC of the load is known.
    const total = rounds + Math.min(1000, Math.floor(rounds / 10));
    const measuredRounds = scavenges > 1 ? (total * (scavenges - 1)) / scavenges : total;
    return {
      bytesPerRound: (allocatedMb * 1024 * 1024) / measuredRounds,
      roundsPerScavenge: total / Math.max(1, scavenges),
      p50: result.p50us,
      p99: result.p99us,
    };
  } finally {
    child.kill('SIGKILL');
  }
}

const results = roots.map(() => [] as Measured[]);
for (let r = 0; r < repeat; r++) for (let i = 0; i < roots.length; i++) results[i]!.push(await measure(roots[i]!));
const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor((list.length - 1) / 2)]!;
for (let i = 0; i < roots.length; i++) {
  const m = results[i]!;
  console.log(
    `${roots[i]}: ${median(m.map((x) => x.bytesPerRound)).toFixed(0)} B allocated per run round, a scavenge every ${median(m.map((x) => x.roundsPerScavenge)).toFixed(0)} rounds (runs: ${m.map((x) => x.bytesPerRound.toFixed(0)).join(' / ')} B; p50 ${m.map((x) => x.p50.toFixed(0)).join(' / ')} µs, p99 ${m.map((x) => x.p99.toFixed(0)).join(' / ')} µs)`,
  );
}
