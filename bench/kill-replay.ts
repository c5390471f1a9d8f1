/**
 * `node --import=tsx bench/kill-replay.ts [--jobs N] [--rounds R]`: every acknowledged job
 * back after `kill -9` of a server whose log is large enough for the replay worker (96 MiB
 * and more, so N of 600,000 and up): pipelined adds of 100-byte payloads (each the job's
 * ID, padded) on one connection, the server killed with 512 adds in flight once N have
 * been sent, started again on its directory, and every acknowledged job asked for with
 * `inspect job`, its payload compared. A fresh directory per round. Prints the replay's
 * time and what was found; exits 1 if an acknowledged job is missing or changed.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startWorkq, workqLauncher, type ServerProc } from './procs.js';

const { values } = parseArgs({ options: { jobs: { type: 'string' }, rounds: { type: 'string' }, help: { type: 'boolean' } } });
if (values.help) {
  console.log('usage: node --import=tsx bench/kill-replay.ts [--jobs N (900000)] [--rounds R (3)]');
  process.exit(0);
}
const JOBS = Number(values.jobs ?? 900_000);
const ROUNDS = Number(values.rounds ?? 3);
const IN_FLIGHT = 512;
const launcher = workqLauncher();
if (launcher === null) throw new Error('no Workq-TS server to run');

const payloadOf = (id: string): string => id.padEnd(100, 'x');

/** Reads CRLF-terminated lines from a socket, in order. */
function onLines(socket: net.Socket, onLine: (line: string) => void): void {
  let rest = '';
  socket.on('data', (data: Buffer) => {
    rest += data.toString('latin1');
    for (let at = rest.indexOf('\r\n'); at >= 0; at = rest.indexOf('\r\n')) {
      const line = rest.slice(0, at);
      rest = rest.slice(at + 2);
      onLine(line);
    }
  });
}

/** Adds until JOBS are sent, then kills the server with the last IN_FLIGHT unanswered; returns the acknowledged IDs. */
function addThenKill(server: ServerProc): Promise<string[]> {
  const acked: string[] = [];
  const pending: string[] = [];
  let sent = 0;
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1');
    const pump = (): void => {
      let out = '';
      while (sent < JOBS && pending.length < IN_FLIGHT) {
        const id = randomUUID();
        pending.push(id);
        out += `add ${id} q 60000 2592000000 100\r\n${payloadOf(id)}\r\n`;
        sent++;
      }
      if (out !== '') socket.write(out);
      if (sent === JOBS) void server.kill();
    };
    socket.on('connect', pump);
    onLines(socket, (line) => {
      const id = pending.shift()!;
      if (line !== '+OK') reject(new Error(`add ${id}: ${line}`));
      acked.push(id);
      if (sent < JOBS) pump();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(acked));
  });
}

/** Asks for every ID with `inspect job`; counts those found with their payload, missing, and changed. */
function check(server: ServerProc, ids: string[]): Promise<{ found: number; missing: number; changed: number }> {
  const counts = { found: 0, missing: 0, changed: 0 };
  let asked = 0;
  let answered = 0;
  return new Promise((resolve) => {
    const socket = net.connect(server.port, '127.0.0.1');
    const pump = (): void => {
      let out = '';
      while (asked < ids.length && asked - answered < IN_FLIGHT) out += `inspect job ${ids[asked++]}\r\n`;
      if (out !== '') socket.write(out);
    };
    socket.on('connect', pump);
    onLines(socket, (line) => {
      if (line === '-NOT-FOUND') counts.missing++;
      else if (line.startsWith('payload ')) counts[line.slice('payload '.length) === payloadOf(ids[answered]!) ? 'found' : 'changed']++;
      else return;
      if (++answered === ids.length) socket.end();
      else pump();
    });
    socket.on('close', () => resolve(counts));
  });
}

let failed = false;
for (let round = 1; round <= ROUNDS; round++) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'workq-kill-replay-'));
  try {
    const first = await startWorkq(launcher, { dir });
    const acked = await addThenKill(first);
    const second = await startWorkq(launcher, { dir, timeoutMs: 120_000 });
    const done = second
      .output()
      .split('\n')
      .find((line) => line.includes('"cmdlog: replay done"'));
    const replay = done === undefined ? null : (JSON.parse(done) as { ms: number; records: number; worker: boolean });
    const { found, missing, changed } = await check(second, acked);
    await second.stop();
    failed ||= missing > 0 || changed > 0;
    console.log(
      `round ${round}: killed with ${JOBS - acked.length} adds unanswered; port answered ${second.readyMs.toFixed(0)} ms after the start, replay ${replay?.ms ?? '?'} ms of ${replay?.records ?? '?'} records (worker: ${replay?.worker ?? '?'}); of ${acked.length} acknowledged: ${found} back, ${missing} missing, ${changed} changed`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
process.exit(failed ? 1 : 0);
