/**
 * Pre-encoded requests for both protocols. Every request of a load is laid out before
 * the clock starts, at a fixed stride, so sending k requests is one zero-copy slice.
 */
import { randomBytes } from 'node:crypto';

export const PAYLOAD_BYTES = 100;
/** Printable and free of LF: the reply scanners count payload lines as single lines. */
export const PAYLOAD = Buffer.alloc(PAYLOAD_BYTES, 'x');

/** The requests one connection sends, in order. */
export interface RequestSource {
  readonly count: number;
  slice(from: number, n: number): Buffer;
}

class StridedSource implements RequestSource {
  constructor(
    private readonly bytes: Buffer,
    private readonly stride: number,
    readonly count: number,
  ) {}

  slice(from: number, n: number): Buffer {
    return this.bytes.subarray(from * this.stride, (from + n) * this.stride);
  }
}

/** The same request over and over, for protocols whose requests carry no ID. */
class RepeatedSource implements RequestSource {
  private readonly window: Buffer;

  constructor(
    private readonly request: Buffer,
    readonly count: number,
    maxSlice: number,
  ) {
    this.window = Buffer.alloc(request.length * maxSlice);
    for (let i = 0; i < maxSlice; i++) request.copy(this.window, i * request.length);
  }

  slice(_from: number, n: number): Buffer {
    return this.window.subarray(0, n * this.request.length);
  }
}

const HEX = Buffer.from('0123456789abcdef');
const RUN_TAG = randomBytes(4).toString('hex');
let loadSerial = 0;

/**
 * Hands out IDs that are unique within this process and across restarts of it:
 * `<run>-<load>-4<conn>-8000-<counter>`, version 4 and RFC 4122 variant as the server
 * requires.
 */
export class IdMint {
  private readonly prefix: string;

  constructor(conn: number) {
    loadSerial += 1;
    const load = (loadSerial & 0xffff).toString(16).padStart(4, '0');
    const c = (conn & 0xfff).toString(16).padStart(3, '0');
    this.prefix = `${RUN_TAG}-${load}-4${c}-8000-`;
  }

  /** A textual ID with a zero counter, to be patched by `stamp`. */
  get template(): string {
    return `${this.prefix}000000000000`;
  }

  /** Writes the 12 hex digits of `n` ending just before `end`. */
  stamp(into: Buffer, end: number, n: number): void {
    let v = n;
    for (let i = end - 1; i >= end - 12; i--) {
      into[i] = HEX[v % 16]!;
      v = Math.floor(v / 16);
    }
  }

  /** One ID as text (for the one-at-a-time latency client). */
  text(n: number): string {
    const b = Buffer.from(this.template);
    this.stamp(b, b.length, n);
    return b.toString('latin1');
  }
}

function withPayload(line: string): Buffer {
  return Buffer.concat([Buffer.from(line, 'latin1'), PAYLOAD, Buffer.from('\r\n')]);
}

/** `add <id> q 60000 600000 100` + payload, `count` distinct IDs. */
export function workqAdds(conn: number, count: number, queue = 'q'): RequestSource {
  const mint = new IdMint(conn);
  const template = withPayload(`add ${mint.template} ${queue} 60000 600000 ${PAYLOAD_BYTES}\r\n`);
  const stride = template.length;
  const idEnd = 4 + 36;
  const bytes = Buffer.allocUnsafe(stride * count);
  for (let i = 0; i < count; i++) {
    template.copy(bytes, i * stride);
    mint.stamp(bytes, i * stride + idEnd, i);
  }
  return new StridedSource(bytes, stride, count);
}

/** `put 0 0 60 100` + payload; beanstalkd assigns the IDs itself. */
export function beanstalkPuts(count: number, maxSlice: number): RequestSource {
  return new RepeatedSource(withPayload(`put 0 0 60 ${PAYLOAD_BYTES}\r\n`), count, maxSlice);
}

/** `run <id> q 60000 1000 100` + payload, one at a time. */
export function workqRun(mint: IdMint, n: number, queue: string): Buffer {
  return withPayload(`run ${mint.text(n)} ${queue} 60000 1000 ${PAYLOAD_BYTES}\r\n`);
}

export const BEANSTALK_PUT = withPayload(`put 0 0 60 ${PAYLOAD_BYTES}\r\n`);

export function beanstalkUse(tube: string): Buffer {
  return Buffer.from(`use ${tube}\r\n`);
}

export function beanstalkWatch(tube: string): Buffer {
  return Buffer.from(`watch ${tube}\r\nignore default\r\n`);
}
