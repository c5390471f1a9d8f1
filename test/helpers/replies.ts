import { randomUUID } from 'node:crypto';
import type { Wire } from './wire.js';

/** A fresh version-4 ID in canonical form. */
export const newId = (): string => randomUUID();

/** `count` fresh IDs, sorted ascending (their byte order, key 4 of docs/protocol.md 7.2). */
export function sortedIds(count: number): string[] {
  return Array.from({ length: count }, newId).sort();
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** An `add` command with its block, as bytes. */
export function addCommand(id: string, name: string, payload: string | Buffer, rest = '1000 60000', flags = ''): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  const line = `add ${id} ${name} ${rest} ${body.length}${flags === '' ? '' : ' ' + flags}\r\n`;
  return Buffer.concat([Buffer.from(line, 'latin1'), body, Buffer.from('\r\n')]);
}

/** The bytes of a lease reply. */
export function leaseReply(id: string, name: string, ttr: number, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  return Buffer.concat([Buffer.from(`+OK 1\r\n${id} ${name} ${ttr} ${body.length}\r\n`, 'latin1'), body, Buffer.from('\r\n')]);
}

/** The bytes of a `result` or `run` reply for a finished job. */
export function resultReply(id: string, success: 0 | 1, result: string | Buffer): Buffer {
  const body = typeof result === 'string' ? Buffer.from(result, 'latin1') : result;
  return Buffer.concat([Buffer.from(`+OK 1\r\n${id} ${success} ${body.length}\r\n`, 'latin1'), body, Buffer.from('\r\n')]);
}

/** Reads one line up to and including CRLF; the result keeps the CRLF. Throws on timeout or close. */
export async function readLine(wire: Wire, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let line = '';
  while (!line.endsWith('\r\n')) {
    const byte = await wire.read(1, Math.max(1, deadline - Date.now()));
    if (byte.length === 0) throw new Error(`no complete line within ${timeoutMs} ms (got ${JSON.stringify(line)})`);
    line += byte.toString('latin1');
  }
  return line;
}

/** One job block of an inspect reply (docs/protocol.md 6.1): the raw bytes and its keys. */
export interface JobBlock {
  id: string;
  raw: Buffer;
  keys: Map<string, string>;
  payload: Buffer;
}

/** Reads one job block, using `payload-size` to read the raw payload whatever bytes it holds. */
export async function readJobBlock(wire: Wire, timeoutMs = 20_000): Promise<JobBlock> {
  const head = await readLine(wire, timeoutMs);
  const [id, countText] = head.slice(0, -2).split(' ');
  const count = Number(countText);
  if (id === undefined || !Number.isInteger(count)) throw new Error(`not a job block header: ${JSON.stringify(head)}`);
  const parts: Buffer[] = [Buffer.from(head, 'latin1')];
  const keys = new Map<string, string>();
  let payload: Buffer = Buffer.alloc(0);
  for (let k = 0; k < count; k++) {
    if (keys.has('payload-size') && !keys.has('payload')) {
      const size = Number(keys.get('payload-size'));
      const bytes = await wire.read(8 + size + 2, timeoutMs);
      if (bytes.length !== 8 + size + 2 || bytes.toString('latin1', 0, 8) !== 'payload ') {
        throw new Error(`bad payload line: ${JSON.stringify(bytes.toString('latin1'))}`);
      }
      payload = bytes.subarray(8, 8 + size);
      keys.set('payload', payload.toString('latin1'));
      parts.push(bytes);
      continue;
    }
    const line = await readLine(wire, timeoutMs);
    const space = line.indexOf(' ');
    keys.set(line.slice(0, space), line.slice(space + 1, -2));
    parts.push(Buffer.from(line, 'latin1'));
  }
  return { id, raw: Buffer.concat(parts), keys, payload };
}

/** Reads an `+OK <n>` header followed by n job blocks (inspect job/jobs/scheduled-jobs). */
export async function readJobBlocks(wire: Wire, timeoutMs = 20_000): Promise<JobBlock[]> {
  const head = await readLine(wire, timeoutMs);
  if (!head.startsWith('+OK ')) throw new Error(`not a job listing: ${JSON.stringify(head)}`);
  const blocks: JobBlock[] = [];
  for (let n = Number(head.slice(4, -2)); n > 0; n--) blocks.push(await readJobBlock(wire, timeoutMs));
  return blocks;
}

/** `inspect job <id>`: the whole raw reply, and the block when there is one. */
export async function inspectJob(wire: Wire, id: string): Promise<{ raw: Buffer; block: JobBlock | null }> {
  wire.send(`inspect job ${id}\r\n`);
  const head = await readLine(wire);
  if (head !== '+OK 1\r\n') return { raw: Buffer.from(head, 'latin1'), block: null };
  const block = await readJobBlock(wire);
  return { raw: Buffer.concat([Buffer.from(head, 'latin1'), block.raw]), block };
}

/** `inspect server`, as a map of its keys. */
export async function inspectServer(wire: Wire): Promise<Map<string, string>> {
  wire.send('inspect server\r\n');
  const head = await readLine(wire);
  const header = await readLine(wire);
  if (head !== '+OK 1\r\n' || !header.startsWith('server ')) throw new Error(`bad inspect server reply: ${head}${header}`);
  const keys = new Map<string, string>();
  for (let n = Number(header.slice(7, -2)); n > 0; n--) {
    const line = await readLine(wire);
    const space = line.indexOf(' ');
    keys.set(line.slice(0, space), line.slice(space + 1, -2));
  }
  return keys;
}

/** The reply of `inspect queue` / one block of `inspect queues`. */
export const queueBlock = (name: string, ready: number, scheduled: number): string => `${name} 2\r\nready-len ${ready}\r\nscheduled-len ${scheduled}\r\n`;

/** A scheduled time in the wire format of docs/protocol.md 3.4, with milliseconds. */
export const wireTime = (ms: number): string => new Date(ms).toISOString();
