import { ERROR_WORD, JOB_KEY, JOB_STATE_NAMES, QUEUE_KEY, RETRIED_KEY, SERVER_ERROR_TEXT, SERVER_KEY } from '../protocol/vocabulary.js';
import { ClientError, NotFoundError, ServerError, ServerStoppingError, TimeoutError, type WorkqError } from './errors.js';
import type { JobInfo, JobResult, LeasedJob, QueueInfo, ServerInfo } from './types.js';

/**
 * Incremental parser of the replies of one connection (docs/protocol.md 4–6). Replies are not
 * self-describing (`+OK 1` is followed by a lease record, a result record or an inspect
 * block depending on the command), so the sink says which kind the next reply is: the
 * kind of the oldest request still waiting. Input may be split anywhere; data blocks
 * are read by their announced size, so CR LF inside them is ordinary data.
 */

export type ReplyKind = 'ok' | 'lease' | 'result' | 'jobs' | 'queues' | 'server' | 'retried';

/** What `retry-failed` reports (docs/protocol-extensions.md). */
export interface Retried {
  readonly name: string;
  readonly retried: number;
}

export type ReplyValue = undefined | LeasedJob | JobResult | JobInfo[] | QueueInfo[] | ServerInfo | Retried;

export interface ReplySink {
  /** The kind of the next reply, or undefined when no request is waiting. */
  next(): ReplyKind | undefined;
  reply(value: ReplyValue | WorkqError): void;
  /** The bytes are not a reply the protocol allows; the parser stops. */
  malformed(reason: string): void;
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
/** No reply line the server sends comes close; a longer one means we lost the framing. */
const MAX_LINE = 65536;
const MAX_BLOCK = 64 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);
const PAYLOAD_PREFIX = Buffer.from(`${JOB_KEY.payload} `, 'latin1');
const CLIENT_ERROR_PREFIX = `${ERROR_WORD.clientError} `;
const SERVER_ERROR_PREFIX = `${ERROR_WORD.serverError} `;

const enum Phase {
  Status,
  RecordHead,
  KeyLine,
  Block,
  BlockEnd,
  Dead,
}

export class ReplyParser {
  private buf: Buffer = EMPTY;
  private pos = 0;
  private phase = Phase.Status;
  private kind: ReplyKind = 'ok';
  private recordsLeft = 0;
  private records: Array<LeasedJob | JobResult | JobInfo | QueueInfo | ServerInfo | Retried> = [];
  private head: string[] = [];
  private keysLeft = 0;
  private keys: Record<string, string> = {};
  private payload: Buffer = EMPTY;
  private payloadSize = -1;
  private block: Buffer = EMPTY;
  private filled = 0;

  constructor(
    private readonly server: string,
    private readonly sink: ReplySink,
  ) {}

  feed(chunk: Buffer): void {
    if (this.phase === Phase.Dead) return;
    if (this.pos < this.buf.length) {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
    } else {
      this.buf = chunk;
    }
    this.pos = 0;
    while (this.step());
    if (this.pos >= this.buf.length) {
      this.buf = EMPTY;
      this.pos = 0;
    }
  }

  /** Consumes one unit (a line, a piece of a block, a terminator); false when more input is needed. */
  private step(): boolean {
    switch (this.phase) {
      case Phase.Status:
        return this.status();
      case Phase.RecordHead:
        return this.recordHead();
      case Phase.KeyLine:
        return this.keyLine();
      case Phase.Block:
        return this.blockBytes();
      case Phase.BlockEnd:
        return this.blockEnd();
      case Phase.Dead:
        return false;
    }
  }

  private status(): boolean {
    const line = this.line();
    if (line === null) return false;
    const kind = this.sink.next();
    if (kind === undefined) return this.fail('reply without a request');
    this.kind = kind;
    if (line[0] === 0x2d) {
      const error = wireError(line.toString('latin1', 1));
      if (error === null) return this.fail('unknown error reply');
      this.sink.reply(error);
      return true;
    }
    if (line.length === 3 && line.toString('latin1') === '+OK') {
      if (kind !== 'ok') return this.fail('+OK without records');
      this.sink.reply(undefined);
      return true;
    }
    if (line.length < 5 || line.toString('latin1', 0, 4) !== '+OK ' || kind === 'ok') {
      return this.fail('unexpected status line');
    }
    const count = integer(line.toString('latin1', 4));
    if (count === null || count < 0 || (count !== 1 && (kind === 'lease' || kind === 'result' || kind === 'server' || kind === 'retried'))) {
      return this.fail('unexpected record count');
    }
    this.records = [];
    this.recordsLeft = count;
    if (count === 0) this.emit();
    else this.phase = Phase.RecordHead;
    return true;
  }

  private recordHead(): boolean {
    const line = this.line();
    if (line === null) return false;
    this.head = line.toString('latin1').split(' ');
    const kind = this.kind;
    if (kind === 'lease' || kind === 'result') {
      const size = integer(this.head[this.head.length - 1] ?? '');
      if (this.head.length !== (kind === 'lease' ? 4 : 3) || !blockSize(size)) return this.fail('bad record line');
      this.startBlock(size as number);
      return true;
    }
    const count = integer(this.head[1] ?? '');
    if (this.head.length !== 2 || count === null || count < 0) return this.fail('bad block header');
    this.keysLeft = count;
    this.keys = {};
    this.payload = EMPTY;
    this.payloadSize = -1;
    if (count === 0) return this.endRecord();
    this.phase = Phase.KeyLine;
    return true;
  }

  private keyLine(): boolean {
    if (this.kind === 'jobs' && this.payloadSize >= 0) {
      const available = this.buf.length - this.pos;
      const n = Math.min(available, PAYLOAD_PREFIX.length);
      // The payload is raw bytes (docs/protocol.md 6.1), so it is read by payload-size, not up to a line end.
      if (this.buf.compare(PAYLOAD_PREFIX, 0, n, this.pos, this.pos + n) === 0) {
        if (n < PAYLOAD_PREFIX.length) return false;
        this.pos += PAYLOAD_PREFIX.length;
        this.startBlock(this.payloadSize);
        return true;
      }
    }
    const line = this.line();
    if (line === null) return false;
    const space = line.indexOf(SP);
    const key = line.toString('latin1', 0, space < 0 ? line.length : space);
    const value = space < 0 ? '' : line.toString('latin1', space + 1);
    this.keys[key] = value;
    if (key === 'payload-size') {
      const size = integer(value);
      if (!blockSize(size)) return this.fail('bad payload-size');
      this.payloadSize = size as number;
    }
    return this.keyDone();
  }

  private keyDone(): boolean {
    this.keysLeft -= 1;
    if (this.keysLeft === 0) return this.endRecord();
    this.phase = Phase.KeyLine;
    return true;
  }

  private startBlock(size: number): void {
    this.block = Buffer.allocUnsafe(size);
    this.filled = 0;
    this.phase = size === 0 ? Phase.BlockEnd : Phase.Block;
  }

  private blockBytes(): boolean {
    const available = this.buf.length - this.pos;
    if (available === 0) return false;
    const n = Math.min(available, this.block.length - this.filled);
    this.buf.copy(this.block, this.filled, this.pos, this.pos + n);
    this.pos += n;
    this.filled += n;
    if (this.filled === this.block.length) this.phase = Phase.BlockEnd;
    return true;
  }

  private blockEnd(): boolean {
    if (this.buf.length - this.pos < 2) return false;
    if (this.buf[this.pos] !== CR || this.buf[this.pos + 1] !== LF) return this.fail('data block without CR LF');
    this.pos += 2;
    if (this.kind === 'jobs') {
      this.payload = this.block;
      this.keys[JOB_KEY.payload] = '';
      return this.keyDone();
    }
    return this.endRecord();
  }

  private endRecord(): boolean {
    const record = this.record();
    if (record === null) return this.fail(`bad ${this.kind} record`);
    this.records.push(record);
    this.recordsLeft -= 1;
    if (this.recordsLeft === 0) this.emit();
    else this.phase = Phase.RecordHead;
    return true;
  }

  private record(): LeasedJob | JobResult | JobInfo | QueueInfo | ServerInfo | Retried | null {
    const [first = '', second = '', third = ''] = this.head;
    switch (this.kind) {
      case 'lease': {
        const ttrMs = integer(third);
        return ttrMs === null ? null : { id: first, name: second, ttrMs, payload: this.block, server: this.server };
      }
      case 'result':
        return second === '1' || second === '0' ? { id: first, success: second === '1', result: this.block } : null;
      case 'jobs':
        return jobInfo(first, this.keys, this.payload, this.server);
      case 'queues':
        return queueInfo(first, this.keys);
      case 'server':
        return serverInfo(this.keys, this.server);
      case 'retried': {
        const retried = integer(this.keys[RETRIED_KEY] ?? '');
        return retried === null || retried < 0 ? null : { name: first, retried };
      }
      case 'ok':
        return null;
    }
  }

  private emit(): void {
    const kind = this.kind;
    const records = this.records;
    this.records = [];
    this.phase = Phase.Status;
    if (kind === 'lease' || kind === 'result' || kind === 'server' || kind === 'retried') {
      this.sink.reply(records[0] as LeasedJob | JobResult | ServerInfo | Retried);
    } else {
      this.sink.reply(records as JobInfo[] | QueueInfo[]);
    }
  }

  /** The next line without its CR LF, or null when it has not fully arrived. */
  private line(): Buffer | null {
    const lf = this.buf.indexOf(LF, this.pos);
    if (lf < 0) {
      if (this.buf.length - this.pos > MAX_LINE) this.fail('line too long');
      return null;
    }
    if (lf === this.pos || this.buf[lf - 1] !== CR) {
      this.fail('line without CR LF');
      return null;
    }
    const line = this.buf.subarray(this.pos, lf - 1);
    this.pos = lf + 1;
    return line;
  }

  private fail(reason: string): false {
    this.phase = Phase.Dead;
    this.buf = EMPTY;
    this.pos = 0;
    this.sink.malformed(reason);
    return false;
  }
}

/** Payloads and results are at most 1 MiB; anything far beyond means lost framing. */
function blockSize(size: number | null): boolean {
  return size !== null && size >= 0 && size <= MAX_BLOCK;
}

function wireError(text: string): WorkqError | null {
  if (text === ERROR_WORD.timeout) return new TimeoutError();
  if (text === ERROR_WORD.notFound) return new NotFoundError();
  if (text.startsWith(CLIENT_ERROR_PREFIX)) return new ClientError(text.slice(CLIENT_ERROR_PREFIX.length));
  if (text.startsWith(SERVER_ERROR_PREFIX)) {
    const message = text.slice(SERVER_ERROR_PREFIX.length);
    return message === SERVER_ERROR_TEXT.stopping ? new ServerStoppingError() : new ServerError(message);
  }
  return null;
}

/** A decimal integer (priorities may be negative), or null. */
function integer(text: string): number | null {
  if (text.length === 0 || text.length > 20) return null;
  for (let i = text[0] === '-' ? 1 : 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return null;
  }
  return text === '-' ? null : Number(text);
}

/** `YYYY-MM-DDTHH:MM:SSZ`, as every inspect time is written. */
function time(text: string | undefined): Date | null {
  if (text === undefined || text.length !== 20 || text[10] !== 'T' || text[19] !== 'Z') return null;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** `YYYY-MM-DDTHH:MM:SS.mmmZ`, the retry-at key of an extension (docs/protocol-extensions.md). */
function millisTime(text: string): Date | null {
  if (text.length !== 24 || text[10] !== 'T' || text[19] !== '.' || text[23] !== 'Z') return null;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}

function numbers<K extends string>(keys: Record<string, string>, names: readonly K[]): Record<K, number> | null {
  const out = {} as Record<K, number>;
  for (const name of names) {
    const value = integer(keys[name] ?? '');
    if (value === null) return null;
    out[name] = value;
  }
  return out;
}

const JOB_NUMBERS = [
  JOB_KEY.ttr,
  JOB_KEY.ttl,
  JOB_KEY.maxAttempts,
  JOB_KEY.attempts,
  JOB_KEY.maxFails,
  JOB_KEY.fails,
  JOB_KEY.priority,
  JOB_KEY.state,
] as const;
const QUEUE_NUMBERS = [QUEUE_KEY.readyLen, QUEUE_KEY.scheduledLen] as const;
const SERVER_NUMBERS = [SERVER_KEY.activeClients, SERVER_KEY.evictedJobs] as const;

function jobInfo(id: string, keys: Record<string, string>, payload: Buffer, server: string): JobInfo | null {
  const n = numbers(keys, JOB_NUMBERS);
  const created = time(keys[JOB_KEY.created]);
  const state = n === null ? undefined : JOB_STATE_NAMES[n[JOB_KEY.state]];
  const name = keys[JOB_KEY.name];
  if (n === null || created === null || state === undefined || name === undefined || keys[JOB_KEY.payload] === undefined) {
    return null;
  }
  const scheduled = keys[JOB_KEY.time];
  const at = scheduled === undefined ? null : time(scheduled);
  if (scheduled !== undefined && at === null) return null;
  const retryText = keys[JOB_KEY.retryAt];
  const retryAt = retryText === undefined ? null : millisTime(retryText);
  if (retryText !== undefined && retryAt === null) return null;
  return {
    id,
    name,
    ttrMs: n[JOB_KEY.ttr],
    ttlMs: n[JOB_KEY.ttl],
    payload,
    maxAttempts: n[JOB_KEY.maxAttempts],
    attempts: n[JOB_KEY.attempts],
    maxFails: n[JOB_KEY.maxFails],
    fails: n[JOB_KEY.fails],
    priority: n[JOB_KEY.priority],
    state,
    created,
    time: at,
    retryAt,
    server,
  };
}

function queueInfo(name: string, keys: Record<string, string>): QueueInfo | null {
  const n = numbers(keys, QUEUE_NUMBERS);
  return n === null ? null : { name, readyLen: n[QUEUE_KEY.readyLen], scheduledLen: n[QUEUE_KEY.scheduledLen], paused: keys[QUEUE_KEY.paused] === '1' };
}

function serverInfo(keys: Record<string, string>, server: string): ServerInfo | null {
  const n = numbers(keys, SERVER_NUMBERS);
  const started = time(keys[SERVER_KEY.started]);
  if (n === null || started === null) return null;
  return { server, activeClients: n[SERVER_KEY.activeClients], evictedJobs: n[SERVER_KEY.evictedJobs], started, keys };
}
