/**
 * Node's floor for the `run` round trip and the cycle workloads: a process that speaks just
 * enough of the Workq protocol for bench/latency.ts and the cycle workload (add, run, lease,
 * complete) and does nothing else. A job is handed to a waiting `lease` (or the next one)
 * as a canned lease reply; a worker's `complete` answers the run's client, if any, and
 * then the worker. Per `run` round it does what the server does on the wire (two reads,
 * three writes on two connections) with no parser, engine or reply builder: what is left
 * is Node's socket path, read the way the server reads it (into one shared buffer,
 * src/server/socket-reads.ts). With `echo` as the mode it answers every line
 * with `+OK` instead (one connection, one read and one write per round).
 * Run as its own process: `node --import=tsx bench/relay-server.ts PORT [relay|echo]`.
 */
import net from 'node:net';
import { readChunks } from '../src/server/socket-reads.js';

const port = Number(process.argv[2]);
const mode = process.argv[3] ?? 'relay';
const LF = 0x0a;
const OK = Buffer.from('+OK\r\n');
const ID_LEN = 36;

/** A job: its ID and payload, and the `run` client waiting for it (null for an `add`). */
interface Pending {
  client: net.Socket | null;
  id: Buffer;
  payload: Buffer;
}

/** FIFO of jobs no lease has taken yet (a head index over an array, compacted as it empties). */
const ready: Pending[] = [];
let readyHead = 0;
const waitingWorkers: net.Socket[] = [];
/** Run clients by job ID, while their job is leased. */
const clients = new Map<string, net.Socket>();

const OK_ONE = Buffer.from('+OK 1\r\n');
const CRLF = Buffer.from('\r\n');

function leaseReply(job: Pending): Buffer {
  if (job.client !== null) clients.set(job.id.toString('latin1'), job.client);
  return Buffer.concat([OK_ONE, job.id, Buffer.from(` q 1000 ${job.payload.length}\r\n`), job.payload, CRLF]);
}

function hand(worker: net.Socket, job: Pending): void {
  worker.write(leaseReply(job));
}

function offer(job: Pending): void {
  const worker = waitingWorkers.shift();
  if (worker !== undefined) hand(worker, job);
  else ready.push(job);
}

function takeReady(): Pending | undefined {
  if (readyHead === ready.length) return undefined;
  const job = ready[readyHead++];
  if (readyHead === ready.length) {
    ready.length = 0;
    readyHead = 0;
  }
  return job;
}

/** Splits a connection's bytes into lines (without CRLF), across chunks. */
function lines(socket: net.Socket, onLine: (line: Buffer) => void, afterChunk: () => void): void {
  let rest: Buffer | null = null;
  readChunks(socket, (chunk: Buffer) => {
    let buf = chunk;
    if (rest !== null) {
      buf = Buffer.concat([rest, chunk]);
      rest = null;
    }
    let pos = 0;
    for (let lf = buf.indexOf(LF, pos); lf >= 0; lf = buf.indexOf(LF, pos)) {
      onLine(buf.subarray(pos, lf > pos && buf[lf - 1] === 0x0d ? lf - 1 : lf));
      pos = lf + 1;
    }
    if (pos < buf.length) rest = Buffer.from(buf.subarray(pos));
    afterChunk();
  });
}

/**
 * `add`, `run`, `lease` and `complete` of the bench's workloads, nothing checked. The
 * replies a read causes on its own connection leave in one write after the read; a reply
 * to another connection (a lease woken by an add or run, a run's result) at once.
 */
function relay(socket: net.Socket): void {
  const out: Buffer[] = [];
  /** What the next line is: a command, or the data block of an add or run (payload) or of a complete (result). */
  let expect: 'command' | 'add' | 'run' | 'result' = 'command';
  let id = Buffer.alloc(0);
  lines(
    socket,
    (line) => {
      if (expect === 'add' || expect === 'run') {
        offer({ client: expect === 'run' ? socket : null, id, payload: Buffer.from(line) });
        if (expect === 'add') out.push(OK);
        expect = 'command';
        return;
      }
      if (expect === 'result') {
        expect = 'command';
        const key = id.toString('latin1');
        const client = clients.get(key);
        if (client !== undefined) {
          clients.delete(key);
          client.write(Buffer.concat([OK_ONE, id, Buffer.from(' 1 0\r\n\r\n')]));
        }
        out.push(OK);
        return;
      }
      switch (line[0]) {
        case 0x61: // add <id> …
        case 0x72: // run <id> …
          id = Buffer.from(line.subarray(4, 4 + ID_LEN));
          expect = line[0] === 0x61 ? 'add' : 'run';
          return;
        case 0x6c: {
          // lease …
          const job = takeReady();
          if (job === undefined) waitingWorkers.push(socket);
          else out.push(leaseReply(job));
          return;
        }
        case 0x63: // complete <id> 0
          id = Buffer.from(line.subarray(9, 9 + ID_LEN));
          expect = 'result';
          return;
        default:
          out.push(OK);
      }
    },
    () => {
      if (out.length === 0) return;
      socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
      out.length = 0;
    },
  );
}

function echo(socket: net.Socket): void {
  readChunks(socket, (chunk: Buffer) => {
    let replies = 0;
    for (let lf = chunk.indexOf(LF); lf >= 0; lf = chunk.indexOf(LF, lf + 1)) replies += 1;
    for (let i = 0; i < replies; i++) socket.write(OK);
  });
}

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => socket.destroy());
  socket.on('close', () => {
    const at = waitingWorkers.indexOf(socket);
    if (at >= 0) waitingWorkers.splice(at, 1);
  });
  if (mode === 'echo') echo(socket);
  else relay(socket);
});

server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
