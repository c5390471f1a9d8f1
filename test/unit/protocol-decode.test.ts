import test from 'ava';
import { decode } from '../../src/protocol/decode.js';
import { Parser } from '../../src/protocol/parser.js';
import { ReplyWriter } from '../../src/protocol/replies.js';
import { Frame } from '../../src/protocol/frame.js';
import type { ClientError, DecodeError, Request } from '../../src/protocol/types.js';
import { RecordingSink, bytes } from './protocol-helpers.js';

// Section numbers and Qn in the test titles refer to docs/protocol.md (Qn: its section 9).

const V4 = '8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e';
const V1 = '6ba7b810-9dad-11d1-80b4-00c04fd430c4';
const NIL = '00000000-0000-0000-0000-000000000000';

/** Frames `input` (one command) and decodes it. */
/** The request `input` decodes to; a payload (a view of the parser's bytes) as a Buffer of its own, to compare. */
function decodeInput(input: string): Request | DecodeError {
  const sink = new RecordingSink();
  new Parser(sink).feed(bytes(input));
  if (sink.frames.length !== 1) throw new Error(`not one frame: ${sink.events.join('; ')}`);
  const request = decode(sink.frames[0]!);
  return 'payload' in request ? { ...request, payload: Buffer.from(request.payload) } : request;
}

function errorOf(input: string): ClientError | 'none' {
  const result = decodeInput(input);
  return result.kind === 'error' ? result.error : 'none';
}

/**
 * What a server answers on a fresh connection, as far as the protocol layer decides it:
 * error lines exactly, and `<kind>` for a request that goes on to the engine.
 */
function respond(input: string): string {
  const out = new ReplyWriter();
  const seen: string[] = [];
  const parser = new Parser({
    command(frame: Frame) {
      const request = decode(frame);
      if (request.kind === 'error') out.clientError(request.error);
      else seen.push(`<${request.kind}>`);
    },
    error(error: ClientError) {
      out.clientError(error);
    },
    close(error: ClientError | null) {
      if (error !== null) out.clientError(error);
      seen.push('<closed>');
    },
  });
  parser.feed(bytes(input));
  return out.take().toString('latin1') + seen.join('');
}

test('docs/protocol.md 11.10 session, this project (flag error drops the block; a block without a known end closes, 2.4)', (t) => {
  t.is(respond('frobnicate\r\n'), '-CLIENT-ERROR Unknown command\r\n');
  t.is(respond(`add ${V4} ping 5000 60000\r\n`), '-CLIENT-ERROR Invalid command args\r\n<closed>');
  t.is(respond(`add ${V4} ping 5000 60000 4 -priority=1 -priority=2\r\nping\r\n`), '-CLIENT-ERROR Invalid command flags\r\n');
  t.is(respond(`add ${V1} ping 5000 60000 4\r\nping\r\n`), '-CLIENT-ERROR Invalid ID\r\n');
  t.is(respond('\r\n'), '-CLIENT-ERROR Unknown command\r\n');
  t.is(respond(`add 2a4b6c8d-0e1f-4a2b-9c3d-4e5f6a7b8c9d ping 5000 60000 4\r\npingXY`), '-CLIENT-ERROR Invalid payload size\r\n<closed>');
  t.is(respond('lease ping 10\n'), '<closed>');
});

/** docs/protocol.md 11.10 "More observed one-liners": sent, reply (`<kind>` = handed to the engine). */
const oneLiners: [string, string][] = [
  [`add ${V4} q 1000 60000 1 -foo=bar\r\nx\r\n`, '<add>'],
  [`add ${V4} q 1000 60000 1 -a=1 -b=2 -c=3 -d=4\r\nx\r\n`, '-CLIENT-ERROR Invalid command args\r\n'],
  [`add ${V4} q 1000 60000 1 -priority\r\nx\r\n`, '-CLIENT-ERROR Invalid command args\r\n<closed>'],
  [`add ${V4} q 1000 60000 +1\r\nx\r\n`, '<add>'],
  [`add ${V4} q +5 60000 1\r\nx\r\n`, '-CLIENT-ERROR Invalid TTR\r\n'],
  [`add ${V4} q 1000 60000 1 -priority=+7\r\nx\r\n`, '<add>'],
  [`add ${V4} bad$ 1000 0 1 -priority=x\r\nx\r\n`, '-CLIENT-ERROR Invalid Priority\r\n'],
  [`schedule ${V4} bad$ 0 0 x 1\r\nx\r\n`, '-CLIENT-ERROR Invalid Time\r\n'],
  [`run ${V4} q 1000 10 1 -priority=1 -x=2\r\nx\r\n`, '-CLIENT-ERROR Invalid command args\r\n'],
  ['lease bad$ x\r\n', '-CLIENT-ERROR Invalid wait timeout\r\n'],
  ['lease good bad$ 10\r\n', '-CLIENT-ERROR Invalid Name\r\n'],
  ['result garbage x\r\n', '-CLIENT-ERROR Invalid ID\r\n'],
  [`complete ${V4} x\r\n`, '-CLIENT-ERROR Invalid payload size\r\n<closed>'],
  [`fail ${V4} x\r\n`, '-CLIENT-ERROR Invalid result size\r\n<closed>'],
  ['inspect queues 0 101\r\n', '-CLIENT-ERROR Invalid limit\r\n'],
  ['inspect queues 4294967296 10\r\n', '-CLIENT-ERROR Invalid cursor offset\r\n'],
  ['inspect jobs nope 0 10\r\n', '<inspect-jobs>'],
  [`inspect job ${NIL}\r\n`, '<inspect-job>'],
  ['inspect foo\r\n', '-CLIENT-ERROR Unknown command\r\n'],
  ['inspect -x=1 server\r\n', '-CLIENT-ERROR Invalid command args\r\n'],
];

for (const [sent, reply] of oneLiners) {
  test(`11.10 one-liner: ${JSON.stringify(sent.split('\r\n')[0])}`, (t) => {
    t.is(respond(sent), reply);
  });
}

test('auth <secret> (docs/protocol.md 12.5): one argument, no flags', (t) => {
  t.deepEqual(decodeInput('auth s3cr3t-s3cr3t-s3cr3t\r\n'), { kind: 'auth', secret: 's3cr3t-s3cr3t-s3cr3t' });
  t.is(errorOf('auth x -a=1\r\n'), 'invalid-command-args');
  t.is(respond('auth\r\n'), '-CLIENT-ERROR Invalid command args\r\n');
  t.is(respond('auth a b\r\n'), '-CLIENT-ERROR Invalid command args\r\n');
});

test('lease with an invalid name anywhere is refused (it creates no queue, docs/protocol.md Q17)', (t) => {
  t.deepEqual(decodeInput('lease good bad$ 10\r\n'), { kind: 'error', error: 'invalid-name' });
  t.deepEqual(decodeInput('lease a b bad$ c 10\r\n'), { kind: 'error', error: 'invalid-name' });
  t.deepEqual(decodeInput('lease bad$ 10\r\n'), { kind: 'error', error: 'invalid-name' });
  t.deepEqual(decodeInput('lease a b 0\r\n'), { kind: 'lease', names: ['a', 'b'], timeout: 0 });
  t.is(errorOf('lease a 86400000\r\n'), 'none');
  t.is(errorOf('lease a 86400001\r\n'), 'invalid-wait-timeout');
  t.is(errorOf('lease a -1\r\n'), 'invalid-wait-timeout');
  t.is(errorOf('lease q 10\r\r\n'), 'invalid-wait-timeout');
  t.is(errorOf('lease a 1 -x=1\r\n'), 'invalid-command-args');
  t.is(errorOf('lease bad$ 1 -x=1\r\n'), 'invalid-command-args');
});

test('add: every field decoded, defaults, and validation order of 5.1', (t) => {
  t.deepEqual(decodeInput(`add ${V4} ping 5000 60000 4 -priority=10 -max-attempts=3 -max-fails=2\r\nping\r\n`), {
    kind: 'add',
    id: V4,
    name: 'ping',
    ttr: 5000,
    ttl: 60000,
    priority: 10,
    maxAttempts: 3,
    maxFails: 2,
    payload: bytes('ping'),
    retry: null,
  });
  t.deepEqual(decodeInput(`add ${V4.toUpperCase()} q 1 2592000000 0\r\n\r\n`), {
    kind: 'add',
    id: V4,
    name: 'q',
    ttr: 1,
    ttl: 2592000000,
    priority: 0,
    maxAttempts: 0,
    maxFails: 0,
    payload: bytes(''),
    retry: null,
  });
  const order: [string, ClientError][] = [
    // 2 flags limit before the ID
    [`add bad q 1 1 1 -a=1 -b=1 -c=1 -d=1`, 'invalid-command-args'],
    // 3 ID syntax before TTR
    [`add bad q x 1 1`, 'invalid-id'],
    // 4 TTR parse before TTL parse
    [`add ${V1} q 4294967296 x 1`, 'invalid-ttr'],
    // 5 TTL parse before the flags
    [`add ${V1} q 1 18446744073709551616 1 -max-attempts=x`, 'invalid-ttl'],
    // 6 max-attempts before max-fails
    [`add ${V1} q 1 1 1 -max-fails=x -max-attempts=256`, 'invalid-max-attempts'],
    // 7 max-fails before priority
    [`add ${V1} q 1 1 1 -priority=x -max-fails=256`, 'invalid-max-fails'],
    // 8 priority before the version check
    [`add ${V1} q 1 1 1 -priority=2147483648`, 'invalid-priority'],
    // 9 version before the name
    [`add ${V1} bad$ 1 1 1`, 'invalid-id'],
    [`add ${NIL} bad$ 1 1 1`, 'invalid-id'],
    // 10 name before the TTR range
    [`add ${V4} bad$ 4294967295 18446744073709551615 1`, 'invalid-name'],
    // 11 TTR range before the TTL range
    [`add ${V4} q 0 0 1`, 'invalid-ttr'],
    [`add ${V4} q 86400001 1 1`, 'invalid-ttr'],
    // 12 TTL range
    [`add ${V4} q 86400000 0 1`, 'invalid-ttl'],
    [`add ${V4} q 1 2592000001 1`, 'invalid-ttl'],
    [`add ${V4} q 1 18446744073709551615 1`, 'invalid-ttl'],
  ];
  for (const [line, error] of order) t.is(errorOf(`${line}\r\nx\r\n`), error, line);
});

test('schedule: fields and validation order of 5.2', (t) => {
  t.deepEqual(decodeInput(`schedule ${V4} report 1000 60000 2030-01-01T00:00:00.25Z 3 -priority=-2\r\nmon\r\n`), {
    kind: 'schedule',
    id: V4,
    name: 'report',
    ttr: 1000,
    ttl: 60000,
    timeSec: 1893456000,
    timeNsec: 250000000,
    priority: -2,
    maxAttempts: 0,
    maxFails: 0,
    payload: bytes('mon'),
    retry: null,
  });
  const T = '2030-01-01T00:00:00Z';
  const order: [string, ClientError][] = [
    [`schedule bad q 1 1 ${T} 1 -a=1 -b=1 -c=1 -d=1`, 'invalid-command-args'],
    [`schedule bad q x x x 1`, 'invalid-id'],
    [`schedule ${V1} q x x x 1`, 'invalid-ttr'],
    [`schedule ${V1} q 1 x x 1`, 'invalid-ttl'],
    [`schedule ${V1} q 1 1 x 1 -max-attempts=x`, 'invalid-time'],
    [`schedule ${V1} q 1 1 ${T} 1 -max-attempts=x -max-fails=x`, 'invalid-max-attempts'],
    [`schedule ${V1} q 1 1 ${T} 1 -max-fails=x -priority=x`, 'invalid-max-fails'],
    [`schedule ${V1} q 1 1 ${T} 1 -priority=x`, 'invalid-priority'],
    [`schedule ${V1} bad$ 0 0 ${T} 1`, 'invalid-id'],
    [`schedule ${V4} bad$ 0 0 ${T} 1`, 'invalid-name'],
    [`schedule ${V4} q 0 0 ${T} 1`, 'invalid-ttr'],
    [`schedule ${V4} q 1 0 ${T} 1`, 'invalid-ttl'],
  ];
  for (const [line, error] of order) t.is(errorOf(`${line}\r\nx\r\n`), error, line);
});

test('run: fields and validation order of 5.3', (t) => {
  t.deepEqual(decodeInput(`run ${V4} resize 5000 10000 3 -priority=-5\r\nimg\r\n`), {
    kind: 'run',
    id: V4,
    name: 'resize',
    ttr: 5000,
    timeout: 10000,
    priority: -5,
    payload: bytes('img'),
  });
  t.deepEqual(decodeInput(`run ${V4} resize 5000 0 3 -max-fails=x\r\nimg\r\n`), {
    kind: 'run',
    id: V4,
    name: 'resize',
    ttr: 5000,
    timeout: 0,
    priority: 0,
    payload: bytes('img'),
  });
  const order: [string, ClientError][] = [
    [`run bad q 1 1 1 -a=1 -b=1`, 'invalid-command-args'],
    [`run bad q x x 1`, 'invalid-id'],
    [`run ${V1} q x x 1 -priority=x`, 'invalid-ttr'],
    [`run ${V1} q 0 x 1 -priority=x`, 'invalid-priority'],
    [`run ${V1} q 0 86400001 1`, 'invalid-wait-timeout'],
    [`run ${V1} bad$ 0 86400000 1`, 'invalid-id'],
    [`run ${V4} bad$ 0 1 1`, 'invalid-name'],
    [`run ${V4} q 0 1 1`, 'invalid-ttr'],
    [`run ${V4} q 86400001 1 1`, 'invalid-ttr'],
  ];
  for (const [line, error] of order) t.is(errorOf(`${line}\r\nx\r\n`), error, line);
});

test('result: validation order of 5.4', (t) => {
  t.deepEqual(decodeInput(`result ${V4} 1000\r\n`), { kind: 'result', id: V4, timeout: 1000 });
  t.is(errorOf(`result bad x -a=1\r\n`), 'invalid-command-args');
  t.is(errorOf(`result bad x\r\n`), 'invalid-id');
  t.is(errorOf(`result ${V1} x\r\n`), 'invalid-id');
  t.is(errorOf(`result ${V4} x\r\n`), 'invalid-wait-timeout');
  t.is(errorOf(`result ${V4} 86400001\r\n`), 'invalid-wait-timeout');
});

test('complete and fail: 5.6, 5.7', (t) => {
  t.deepEqual(decodeInput(`complete ${V4} 4\r\npong\r\n`), { kind: 'complete', id: V4, result: 'pong' });
  t.deepEqual(decodeInput(`fail ${V4} 7\r\nbounced\r\n`), { kind: 'fail', id: V4, result: 'bounced' });
  t.is(errorOf(`complete bad 1 -a=1\r\nx\r\n`), 'invalid-command-args');
  t.is(errorOf(`complete bad 1\r\nx\r\n`), 'invalid-id');
  t.is(errorOf(`fail ${V1} 1\r\nx\r\n`), 'invalid-id');
});

test('delete: a well-formed non-v4 ID is valid=false (5.8)', (t) => {
  t.deepEqual(decodeInput(`delete ${V4}\r\n`), { kind: 'delete', id: V4, valid: true });
  t.deepEqual(decodeInput(`delete ${V1}\r\n`), { kind: 'delete', id: V1, valid: false });
  t.deepEqual(decodeInput(`delete ${NIL}\r\n`), { kind: 'delete', id: NIL, valid: false });
  t.is(errorOf('delete garbage\r\n'), 'invalid-id');
  t.is(errorOf(`delete ${V4} -a=1\r\n`), 'invalid-command-args');
});

test('retry flags of add and schedule (docs/protocol-extensions.md)', (t) => {
  t.like(decodeInput(`add ${V4} q 1 1 0 -retry-delay=100 -retry-max-delay=5000 -retry-jitter=25\r\n\r\n`), {
    kind: 'add',
    retry: { delayMs: 100, maxDelayMs: 5000, jitterPercent: 25 },
  });
  t.like(decodeInput(`add ${V4} q 1 1 0 -retry-jitter=0\r\n\r\n`), { retry: { delayMs: 0, maxDelayMs: 0, jitterPercent: 0 } });
  t.like(decodeInput(`add ${V4} q 1 1 0 -priority=1 -max-attempts=1 -max-fails=1 -retry-delay=1 -retry-max-delay=2 -retry-jitter=3\r\n\r\n`), {
    priority: 1,
    maxAttempts: 1,
    maxFails: 1,
    retry: { delayMs: 1, maxDelayMs: 2, jitterPercent: 3 },
  });
  t.like(decodeInput(`schedule ${V4} q 1 1 2030-01-01T00:00:00Z 0 -retry-delay=9\r\n\r\n`), { kind: 'schedule', retry: { delayMs: 9 } });
  t.is(errorOf(`add ${V4} q 1 1 0 -a=1 -b=1 -c=1 -retry-delay=1 -d=1\r\n\r\n`), 'invalid-command-args');
  t.is(errorOf(`add ${V4} q 1 1 0 -retry-delay=86400001\r\n\r\n`), 'invalid-retry-delay');
  t.is(errorOf(`add ${V4} q 1 1 0 -retry-max-delay=-1\r\n\r\n`), 'invalid-retry-max-delay');
  t.is(errorOf(`add ${V4} q 1 1 0 -retry-jitter=256\r\n\r\n`), 'invalid-retry-jitter');
  t.is(errorOf(`add bad q 1 1 0 -retry-jitter=256\r\n\r\n`), 'invalid-id', 'the retry flags after the ID');
  t.is(errorOf(`add ${V4} q 1 1 0 -priority=x -retry-jitter=256\r\n\r\n`), 'invalid-priority', 'and after the original flags');
  t.is(errorOf(`add ${V1} q 1 1 0 -retry-jitter=256\r\n\r\n`), 'invalid-retry-jitter', 'but before the version check');
});

test('touch, pause, resume (docs/protocol-extensions.md)', (t) => {
  t.deepEqual(decodeInput(`touch ${V4}\r\n`), { kind: 'touch', id: V4, ttr: null });
  t.deepEqual(decodeInput(`touch ${V4.toUpperCase()} 86400000\r\n`), { kind: 'touch', id: V4, ttr: 86_400_000 });
  t.is(errorOf(`touch ${V4} 0\r\n`), 'invalid-ttr');
  t.is(errorOf(`touch ${V4} 86400001\r\n`), 'invalid-ttr');
  t.is(errorOf(`touch ${V1} 5\r\n`), 'invalid-id');
  t.is(errorOf(`touch ${NIL}\r\n`), 'invalid-id');
  t.is(errorOf('touch bad x\r\n'), 'invalid-id');
  t.is(errorOf(`touch ${V4} -a=1\r\n`), 'invalid-command-args');
  t.deepEqual(decodeInput('pause q\r\n'), { kind: 'pause', name: 'q', paused: true });
  t.deepEqual(decodeInput('resume q\r\n'), { kind: 'pause', name: 'q', paused: false });
  t.is(errorOf('pause q$\r\n'), 'invalid-name');
  t.is(errorOf('resume q -a=1\r\n'), 'invalid-command-args');
});

test('inspect: objects, arity, fields (6.x)', (t) => {
  t.deepEqual(decodeInput('inspect server\r\n'), { kind: 'inspect-server' });
  t.deepEqual(decodeInput(`inspect job ${V1.toUpperCase()}\r\n`), { kind: 'inspect-job', id: V1 });
  t.deepEqual(decodeInput('inspect queue ping\r\n'), { kind: 'inspect-queue', name: 'ping' });
  t.deepEqual(decodeInput('inspect queues 0 100\r\n'), { kind: 'inspect-queues', offset: 0, limit: 100 });
  t.deepEqual(decodeInput('inspect jobs ping 4294967295 1\r\n'), { kind: 'inspect-jobs', name: 'ping', offset: 4294967295, limit: 1 });
  t.deepEqual(decodeInput('inspect scheduled-jobs r 3 10\r\n'), { kind: 'inspect-scheduled-jobs', name: 'r', offset: 3, limit: 10 });
  const errors: [string, ClientError][] = [
    ['inspect server x', 'invalid-command-args'],
    ['inspect job', 'invalid-command-args'],
    ['inspect job garbage', 'invalid-id'],
    ['inspect queue', 'invalid-command-args'],
    ['inspect queue bad$', 'invalid-name'],
    ['inspect queues 0', 'invalid-command-args'],
    ['inspect queues x 0', 'invalid-cursor-offset'],
    ['inspect queues 0 0', 'invalid-limit'],
    ['inspect queues 0 65536', 'invalid-limit'],
    ['inspect jobs q 0', 'invalid-command-args'],
    ['inspect jobs bad$ x x', 'invalid-name'],
    ['inspect jobs q -1 x', 'invalid-cursor-offset'],
    ['inspect scheduled-jobs q 0 101', 'invalid-limit'],
    ['inspect Server', 'unknown-command'],
    ['inspect foo -x=1', 'unknown-command'],
    ['inspect server -x=1', 'invalid-command-args'],
  ];
  for (const [line, error] of errors) t.is(errorOf(`${line}\r\n`), error, line);
});

test('a spec the decoder does not know is an unknown command', (t) => {
  const spec = { name: 'stats', index: 15, minArgs: 1, maxArgs: 1, block: false, blockError: null, mutating: false, blocking: false };
  const frame = new Frame(spec, bytes('stats'), Int32Array.of(0, 5), 1, null, null);
  t.deepEqual(decode(frame), { kind: 'error', error: 'unknown-command' });
});
