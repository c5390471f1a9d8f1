/**
 * Slow readers (issue 13): many clients pipeline `inspect jobs <queue> 0 <limit>` and never
 * read their replies, while one client does round trips. Run once with no server-wide bound
 * on held replies (limits.maxReplyBufferBytes 0: only the 4 MiB per connection) and once
 * with the default, against a separate server process each time. Records the server's RSS
 * (peak during the flood, and after the flood's clients have gone) and the round trips of
 * the reading client during the flood. Bounded: --seconds of flood per run.
 *
 *   npx tsc -p tsconfig.json && node --import=tsx bench/slow-readers.ts [--clients 400] [--jobs 100] [--payload 16384] [--pipelined 50] [--seconds 15] [--bounds 0,67108864]
 *
 * `inspect jobs` pages at most 100 jobs, so one reply here is about 1.6 MiB.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { freePort, startWorkq, workqLauncher, type ServerProc } from './procs.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '400' },
    jobs: { type: 'string', default: '100' },
    payload: { type: 'string', default: '16384' },
    pipelined: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '15' },
    bounds: { type: 'string', default: '0,67108864' },
  },
});
const CLIENTS = Number(values.clients);
const JOBS = Number(values.jobs);
const PIPELINED = Number(values.pipelined);
const FLOOD_MS = Number(values.seconds) * 1000;
const BOUNDS = values.bounds.split(',').map(Number);
const PAYLOAD = 'p'.repeat(Number(values.payload));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sends `text` and resolves once `expect` bytes have come back. */
function roundTrip(socket: net.Socket, text: string, expect: number): Promise<void> {
  return new Promise((resolve) => {
    let got = 0;
    const onData = (chunk: Buffer): void => {
      got += chunk.length;
      if (got >= expect) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
    socket.write(text);
  });
}

interface Outcome {
  bound: number;
  baseRss: number;
  peakRss: number;
  afterRss: number;
  /** Largest workq_reply_bytes_held seen by the scrapes during the flood. */
  peakHeld: number;
  roundTrips: number;
  maxRoundTripMs: number;
  p99RoundTripMs: number;
}

async function runOnce(bound: number): Promise<Outcome> {
  process.env.WORKQ_MAX_REPLY_BUFFER_BYTES = String(bound);
  const launcher = workqLauncher();
  if (launcher === null) throw new Error('no Workq-TS build: run npx tsc -p tsconfig.json first');
  const adminPort = await freePort();
  const server: ServerProc = await startWorkq(launcher, { extraArgs: ['-admin-listen', `127.0.0.1:${adminPort}`] });
  const held = async (): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    return Number(/^workq_reply_bytes_held\{[^}]*\} (\S+)$/m.exec(text)?.[1] ?? NaN);
  };
  try {
    const reader = await connect(server.port);
    let adds = '';
    for (let i = 0; i < JOBS; i++) adds += `add ${randomUUID()} big 60000 3600000 ${PAYLOAD.length}\r\n${PAYLOAD}\r\n`;
    await roundTrip(reader, adds, JOBS * '+OK\r\n'.length);
    const probeReply = `+OK 1\r\nbig 2\r\nready-len ${JOBS}\r\nscheduled-len 0\r\n`.length;
    await sleep(500);
    const baseRss = server.rss();

    const flood: net.Socket[] = [];
    const line = `inspect jobs big 0 ${JOBS}\r\n`.repeat(PIPELINED);
    for (let i = 0; i < CLIENTS; i++) {
      const socket = await connect(server.port);
      socket.on('error', () => undefined);
      socket.pause();
      socket.write(line);
      flood.push(socket);
    }
    let peakRss = baseRss;
    let peakHeld = 0;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, server.rss());
      void held().then((bytes) => (peakHeld = Math.max(peakHeld, bytes)));
    }, 250);
    const times: number[] = [];
    const end = performance.now() + FLOOD_MS;
    while (performance.now() < end) {
      const start = performance.now();
      await roundTrip(reader, 'inspect queues 0 1\r\n', probeReply);
      times.push(performance.now() - start);
    }
    clearInterval(sampler);
    peakRss = Math.max(peakRss, server.rss());
    for (const socket of flood) socket.destroy();
    await sleep(5000);
    const afterRss = server.rss();
    reader.destroy();
    times.sort((a, b) => a - b);
    return {
      bound,
      baseRss,
      peakRss,
      afterRss,
      peakHeld,
      roundTrips: times.length,
      maxRoundTripMs: times[times.length - 1] ?? 0,
      p99RoundTripMs: times[Math.floor(times.length * 0.99)] ?? 0,
    };
  } finally {
    await server.stop();
  }
}

const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(0)} MiB`;
console.log(
  `${CLIENTS} clients each pipelining ${PIPELINED} x "inspect jobs big 0 ${JOBS}" (${JOBS} jobs of ${PAYLOAD.length} bytes) without reading, for ${FLOOD_MS / 1000} s`,
);
console.log(
  '| limits.maxReplyBufferBytes | RSS before | RSS peak | reply bytes held, peak | RSS 5 s after the flood left | reading client: round trips | p99 | max |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const bound of BOUNDS) {
  const r = await runOnce(bound);
  console.log(
    `| ${bound === 0 ? '0 (per connection only)' : bound} | ${mib(r.baseRss)} | ${mib(r.peakRss)} | ${mib(r.peakHeld)} | ${mib(r.afterRss)} | ${r.roundTrips} | ${r.p99RoundTripMs.toFixed(1)} ms | ${r.maxRoundTripMs.toFixed(0)} ms |`,
  );
}
