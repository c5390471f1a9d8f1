import test from 'ava';
import { COMMAND_BUDGET, MAX_BLOCK_SIZE, MAX_SKIP_SIZE, Parser } from '../../src/protocol/parser.js';
import { RecordingSink, bytes, parseChunks, splits } from './protocol-helpers.js';

const V4 = '8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e';

/** Parses `input` whole, split at every offset and byte by byte; all must agree. */
function parseEverySplit(t: { deepEqual: (a: unknown, b: unknown, m?: string) => void }, input: Buffer, eof = false): string[] {
  const ways = splits(input);
  const expected = parseChunks(ways[0]!, eof);
  for (let i = 1; i < ways.length; i++) {
    t.deepEqual(parseChunks(ways[i]!, eof), expected, `split ${i} of ${JSON.stringify(input.toString('latin1'))}`);
  }
  return expected;
}

/** Cases of docs/protocol.md 2.x: input, whether EOF follows, events expected. */
const framing: [string, string, boolean, string[]][] = [
  ['add with block', `add ${V4} ping 5000 60000 4\r\nping\r\n`, false, [`cmd ["add","${V4}","ping","5000","60000","4"] - "ping"`]],
  [
    'pipelined commands',
    `lease q 10\r\ncomplete ${V4} 2\r\nok\r\ndelete ${V4}\r\n`,
    false,
    ['cmd ["lease","q","10"] - -', `cmd ["complete","${V4}","2"] - "ok"`, `cmd ["delete","${V4}"] - -`],
  ],
  ['block holding CR LF and a command', `fail ${V4} 12\r\ndelete x\r\n\r\n\r\n`, false, [`cmd ["fail","${V4}","12"] - "delete x\\r\\n\\r\\n"`]],
  ['empty block', `complete ${V4} 0\r\n\r\n`, false, [`cmd ["complete","${V4}","0"] - ""`]],
  ['bare LF closes silently', 'lease ping 10\nlease q 1\r\n', false, ['close silent']],
  ['lone LF closes', '\n', false, ['close silent']],
  ['EOF mid-line closes silently', 'lease ping 10\r\nlease q', true, ['cmd ["lease","ping","10"] - -', 'close silent']],
  ['EOF at a boundary says nothing', 'lease ping 10\r\n', true, ['cmd ["lease","ping","10"] - -']],
  ['empty line', '\r\n', false, ['err unknown-command']],
  ['leading space empties the name', ' lease q 10\r\n', false, ['err unknown-command']],
  ['names are case-sensitive', 'ADD x\r\n', false, ['err unknown-command']],
  ['unknown command', 'frobnicate\r\n', false, ['err unknown-command']],
  ['stray CR stays in the token', 'lease q 10\r\r\n', false, ['cmd ["lease","q","10\\r"] - -']],
  ['tab is not a separator', 'lease q\t1 10\r\n', false, ['cmd ["lease","q\\t1","10"] - -']],
  ['repeated and trailing spaces', 'lease  q   r 10  \r\n', false, ['cmd ["lease","q","r","10"] - -']],
  ['flags anywhere', `add -priority=3 ${V4} q -max-fails=2 1 1 1\r\nx\r\n`, false, [`cmd ["add","${V4}","q","1","1","1"] priority,3,max-fails,2 "x"`]],
  ['flag value stops at the second =', 'lease -k=1=2 q 1\r\n', false, ['cmd ["lease","q","1"] k,1 -']],
  ['dash without = is an argument', 'lease -5 -priority 1\r\n', false, ['cmd ["lease","-5","-priority","1"] - -']],
  ['= without dash is an argument', 'lease a=b 1\r\n', false, ['cmd ["lease","a=b","1"] - -']],
  ['empty key', 'lease -=3 q 1\r\n', false, ['err invalid-command-flags']],
  ['empty value', 'lease -priority= q 1\r\n', false, ['err invalid-command-flags']],
  ['duplicate key', 'lease -a=1 q -a=2 1\r\n', false, ['err invalid-command-flags']],
  ['flag error beats unknown command', 'frob -a=1 -a=2\r\n', false, ['err invalid-command-flags']],
  ['flag error beats arity', 'delete -a=\r\n', false, ['err invalid-command-flags']],
  ['malformed flag as the name', '-=1 lease q 1\r\n', false, ['err invalid-command-flags']],
  ['a flag as the name is unknown', '-x=1 server\r\n', false, ['err unknown-command']],
  [
    'flag error drops the block first (11.10)',
    `add ${V4} ping 5000 60000 4 -priority=1 -priority=2\r\nping\r\nlease q 1\r\n`,
    false,
    ['err invalid-command-flags', 'cmd ["lease","q","1"] - -'],
  ],
  ['flag error, bad terminator of the dropped block closes', `fail ${V4} 1 -a=\r\nxyz\r\nlease q 1\r\n`, false, ['close invalid-command-flags']],
  ['flag error, empty block dropped', `complete ${V4} 0 -a=\r\n\r\nlease q 1\r\n`, false, ['err invalid-command-flags', 'cmd ["lease","q","1"] - -']],
  ['flag error, wrong arity closes (2.4)', `add ${V4} ping 5000 4 -a=\r\nping\r\nlease q 1\r\n`, false, ['close invalid-command-flags']],
  ['flag error, size not a number closes (2.4)', `complete ${V4} x -a=\r\nping\r\nlease q 1\r\n`, false, ['close invalid-command-flags']],
  [
    'flag error on a command without block keeps the connection',
    `delete ${V4} x -a=\r\nlease q 1\r\n`,
    false,
    ['err invalid-command-flags', 'cmd ["lease","q","1"] - -'],
  ],
  ['flag error, negative size closes', `complete ${V4} -1 -a=\r\n`, false, ['close invalid-command-flags']],
  ['flag error, EOF inside the block', `complete ${V4} 4 -a=\r\npi`, true, ['close invalid-command-flags']],
  ['wrong arity of a block command closes (2.4, 11.10)', `add ${V4} ping 5000 60000\r\nping\r\nlease q 1\r\n`, false, ['close invalid-command-args']],
  ['too many args of a block command closes', `fail ${V4} 1 1\r\nx\r\n`, false, ['close invalid-command-args']],
  ['a space in the queue name closes', `add ${V4} my queue 5000 60000 4\r\ndelete ${V4}\r\n`, false, ['close invalid-command-args']],
  ['too many args', `delete ${V4} x\r\n`, false, ['err invalid-command-args']],
  ['lease needs a name', 'lease 10\r\n', false, ['err invalid-command-args']],
  ['inspect alone', 'inspect\r\n', false, ['err invalid-command-args']],
  ['inspect with only a flag', 'inspect -x=1\r\n', false, ['err invalid-command-args']],
  ['inspect with flag and object', 'inspect -x=1 server\r\n', false, ['cmd ["inspect","server"] x,1 -']],
  ['size not a number closes (2.4)', `complete ${V4} x\r\nok\r\nlease q 1\r\n`, false, ['close invalid-payload-size']],
  ['fail says result size', `fail ${V4} x\r\n`, false, ['close invalid-result-size']],
  ['size beyond int64 is not a number', `complete ${V4} 9223372036854775808\r\n`, false, ['close invalid-payload-size']],
  ['int64 max closes', `complete ${V4} 9223372036854775807\r\n`, false, ['close invalid-payload-size']],
  ['negative size closes', `fail ${V4} -1\r\nxx\r\n`, false, ['close invalid-result-size']],
  ['minus zero is zero', `complete ${V4} -0\r\n\r\n`, false, [`cmd ["complete","${V4}","-0"] - ""`]],
  ['plus sign and leading zeros', `complete ${V4} +002\r\nok\r\n`, false, [`cmd ["complete","${V4}","+002"] - "ok"`]],
  ['too-short size: junk at the terminator closes (2.4, 11.10)', `add ${V4} ping 5000 60000 4\r\npingXYlease q 1\r\n`, false, ['close invalid-payload-size']],
  ['terminator CR then junk closes', `complete ${V4} 2\r\nok\rXlease q 1\r\n`, false, ['close invalid-payload-size']],
  ['terminator LF first closes', `complete ${V4} 2\r\nok\n\rlease q 1\r\n`, false, ['close invalid-payload-size']],
  ['fail terminator closes with result size', `fail ${V4} 2\r\nokXX\r\n`, false, ['close invalid-result-size']],
  ['EOF inside the block', `complete ${V4} 4\r\npo`, true, ['close invalid-payload-size']],
  ['EOF inside the terminator', `fail ${V4} 4\r\npong\r`, true, ['close invalid-result-size']],
  ['EOF before the block', `fail ${V4} 4\r\n`, true, ['close invalid-result-size']],
  ['nothing after close', 'lease q 1\nlease q 2\r\n', true, ['close silent']],
];

for (const [title, input, eof, expected] of framing) {
  test(`framing: ${title}`, (t) => {
    t.deepEqual(parseEverySplit(t, bytes(input), eof), expected);
  });
}

test('a SIZE above 1 MiB is skipped without being parsed, then error E', (t) => {
  const size = MAX_BLOCK_SIZE + 1;
  const block = Buffer.concat([Buffer.alloc(size, 'delete x\r\n'), bytes('\r\n')]);
  const line = bytes(`add ${V4} q 1 1 ${size}\r\n`);
  const after = bytes('lease q 1\r\n');
  const input = Buffer.concat([line, block, after]);
  const expected = ['err invalid-payload-size', 'cmd ["lease","q","1"] - -'];
  t.deepEqual(parseChunks([input]), expected);
  const chunks: Buffer[] = [];
  for (let i = 0; i < input.length; i += 4093) chunks.push(input.subarray(i, i + 4093));
  t.deepEqual(parseChunks(chunks), expected);
  t.deepEqual(parseChunks([line, block.subarray(0, 100)], true), ['close invalid-payload-size']);
});

test('a skipped block whose terminator is not CRLF closes; nothing after it is parsed (2.4)', (t) => {
  const size = MAX_BLOCK_SIZE + 1;
  const input = Buffer.concat([bytes(`add ${V4} q 1 1 ${size}\r\n`), Buffer.alloc(size + 1, 0x61), bytes('\r\nlease q 1\r\n')]);
  t.deepEqual(parseChunks([input]), ['close invalid-payload-size']);
  t.deepEqual(parseChunks([input.subarray(0, 100), input.subarray(100, size), input.subarray(size)]), ['close invalid-payload-size']);
});

test('the skip of a large block holds no buffer', (t) => {
  const sink = new RecordingSink();
  const parser = new Parser(sink);
  parser.feed(bytes(`run ${V4} q 1 1 ${MAX_SKIP_SIZE}\r\n`));
  const chunk = Buffer.alloc(1 << 20, 0x61);
  for (let i = 0; i < 64; i++) parser.feed(chunk);
  t.deepEqual(sink.events, []);
  const internals = parser as unknown as { block: Buffer | null; partial: Buffer | null };
  t.is(internals.block, null);
  t.is(internals.partial, null);
  parser.feed(bytes('\r\nlease q 1\r\n'));
  t.deepEqual(sink.events, ['err invalid-payload-size', 'cmd ["lease","q","1"] - -']);
});

test('a SIZE above 64 MiB closes', (t) => {
  t.deepEqual(parseChunks([bytes(`add ${V4} q 1 1 ${MAX_SKIP_SIZE + 1}\r\n`)]), ['close invalid-payload-size']);
});

test('line budget: 1,058,576 bytes with CRLF accepted, one more closes', (t) => {
  const head = 'lease ';
  const tail = ' 1\r\n';
  const fits = head + 'a'.repeat(COMMAND_BUDGET - head.length - tail.length) + tail;
  t.is(fits.length, COMMAND_BUDGET);
  const [event] = parseChunks([bytes(fits)]);
  t.true(event!.startsWith('cmd ["lease","aaa'));
  const pieces: Buffer[] = [];
  const fitsBytes = bytes(fits);
  for (let i = 0; i < fitsBytes.length; i += 65536) pieces.push(fitsBytes.subarray(i, i + 65536));
  t.is(parseChunks(pieces)[0], event);
  const over = head + 'a'.repeat(COMMAND_BUDGET + 1 - head.length - tail.length) + tail;
  t.deepEqual(parseChunks([bytes(over)]), ['close silent']);
  const overBytes = bytes(over);
  t.deepEqual(parseChunks([overBytes.subarray(0, 1000), overBytes.subarray(1000)]), ['close silent']);
});

test('a line without LF closes as soon as it cannot fit the budget', (t) => {
  const sink = new RecordingSink();
  const parser = new Parser(sink);
  const chunk = Buffer.alloc(65536, 0x61);
  let fed = 0;
  while (sink.events.length === 0 && fed < 4 * COMMAND_BUDGET) {
    parser.feed(chunk);
    fed += chunk.length;
  }
  t.deepEqual(sink.events, ['close silent']);
  t.true(fed < COMMAND_BUDGET + chunk.length);
  parser.feed(bytes('lease q 1\r\n'));
  parser.end();
  t.deepEqual(sink.events, ['close silent']);
});

test('line + block + CRLF over the budget: the block is dropped, error E', (t) => {
  const size = MAX_BLOCK_SIZE;
  const padding = ' '.repeat(COMMAND_BUDGET - size - 2 - 40);
  const lineText = `complete ${V4} ${size}${padding}\r\n`;
  const block = Buffer.concat([Buffer.alloc(size, 'lease q 1\r\n'), bytes('\r\n')]);
  const fitting = bytes(lineText.slice(0, -2 - (lineText.length + size + 2 - COMMAND_BUDGET)) + '\r\n');
  t.is(fitting.length + size + 2, COMMAND_BUDGET);
  const okBlock = Buffer.concat([Buffer.alloc(size, 0x78), bytes('\r\n')]);
  const [accepted] = parseChunks([fitting, okBlock]);
  t.true(accepted!.startsWith(`cmd ["complete","${V4}","${size}"] - "xxx`));
  const tooLong = Buffer.concat([fitting.subarray(0, fitting.length - 2), bytes(' \r\n')]);
  t.deepEqual(parseChunks([tooLong, block, bytes('delete q\r\n')]), ['err invalid-payload-size', 'cmd ["delete","q"] - -']);
});

test('the block is exactly its bytes, unchanged when the input is reused', (t) => {
  const sink = new RecordingSink();
  const parser = new Parser(sink);
  const input = bytes(`add ${V4} q 1 1 5\r\nh\xe9\x00\r\xff\r\n`);
  parser.feed(input);
  input.fill(0);
  t.is(sink.frames[0]!.blockText(), 'h\xe9\x00\r\xff');
});

test('a block split over chunks is gathered whole; every byte value survives', (t) => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const input = Buffer.concat([bytes(`add ${V4} q 1 1 256\r\n`), all, bytes('\r\n'), bytes(`add ${V4} q 1 1 3\r\nabc\r\n`)]);
  for (const size of [1, 7, 100, 300]) {
    const sink = new RecordingSink();
    const parser = new Parser(sink);
    for (let i = 0; i < input.length; i += size) parser.feed(input.subarray(i, i + size));
    t.is(sink.frames.length, 2, String(size));
    t.deepEqual(sink.frames[0]!.blockView(), new Uint8Array(all), String(size));
    t.is(sink.frames[1]!.blockText(), 'abc', String(size));
  }
});

test('args and flags come out as latin1 strings', (t) => {
  const sink = new RecordingSink();
  new Parser(sink).feed(Buffer.from([...bytes('lease \xe9t\xff -k\xe9=v\xff 1\r\n')]));
  t.deepEqual(sink.frames[0]!.args, ['lease', '\xe9t\xff', '1']);
  t.deepEqual(sink.frames[0]!.flags, ['k\xe9', 'v\xff']);
});

test('many distinct flags are checked for duplicates without quadratic cost', (t) => {
  const distinct = Array.from({ length: 50000 }, (_, i) => `-k${i}=1`).join(' ');
  const started = Date.now();
  const [ok] = parseChunks([bytes(`lease q 1 ${distinct}\r\n`)]);
  t.true(ok!.startsWith('cmd ["lease","q","1"] k0,1,k1,1'));
  t.deepEqual(parseChunks([bytes(`lease q 1 ${distinct} -k49999=2\r\n`)]), ['err invalid-command-flags']);
  t.true(Date.now() - started < 5000);
});

test('a line with very many tokens is parsed and the token store shrinks again', (t) => {
  const sink = new RecordingSink();
  const parser = new Parser(sink);
  const flags = Array.from({ length: 10000 }, (_, i) => `-k${i}=v`).join(' ');
  parser.feed(bytes(`lease ${'q '.repeat(100000)}1\r\nlease q 2\r\nlease q 3 ${flags}\r\nlease q 4\r\n`));
  t.is(sink.frames[0]!.args.length, 100002);
  t.deepEqual(sink.frames[1]!.args, ['lease', 'q', '2']);
  t.is(sink.frames[2]!.flags!.length, 20000);
  t.deepEqual(sink.frames[3]!.args, ['lease', 'q', '4']);
  const stores = parser as unknown as { flagTokens: Int32Array; frame: { bounds: Int32Array } };
  t.true(stores.frame.bounds.length <= 2 * 64);
  t.true(stores.flagTokens.length <= 3 * 16);
});

test('a partial line spanning many chunks is reassembled', (t) => {
  const line = bytes(`lease ${'q'.repeat(200000)} 1\r\n`);
  const chunks: Buffer[] = [];
  for (let i = 0; i < line.length; i += 1000) chunks.push(line.subarray(i, i + 1000));
  const sink = new RecordingSink();
  const parser = new Parser(sink);
  for (const chunk of chunks) parser.feed(chunk);
  t.is(sink.frames[0]!.args[1]!.length, 200000);
  t.is((parser as unknown as { partial: Buffer | null }).partial, null);
});

test('short arguments repeated line after line keep their own values where any byte differs', (t) => {
  const events = parseChunks([bytes('lease abc 10\r\nlease abd 10\r\nlease abc 1\r\nlease ab 100\r\nlease abc 10 x\r\ndelete abc\r\n')]);
  t.deepEqual(events, [
    'cmd ["lease","abc","10"] - -',
    'cmd ["lease","abd","10"] - -',
    'cmd ["lease","abc","1"] - -',
    'cmd ["lease","ab","100"] - -',
    'cmd ["lease","abc","10","x"] - -',
    'cmd ["delete","abc"] - -',
  ]);
});

test('between commands the parser holds neither the chunk nor the last block', (t) => {
  const sink = new RecordingSink();
  const parser = new Parser(sink);
  parser.feed(bytes(`add ${V4} q 1 1 5\r\nhello\r\n`));
  t.deepEqual(sink.events, [`cmd ["add","${V4}","q","1","1","5"] - "hello"`]);
  const frame = (parser as unknown as { frame: { bytes: Buffer; block: Buffer | null; flags: string[] | null } }).frame;
  t.is(frame.bytes.length, 0);
  t.is(frame.block, null);
  t.is(frame.flags, null);
});

test('a block command split before its block keeps its line, even when the first chunk is overwritten', (t) => {
  const sink = new RecordingSink();
  const parser = new Parser(sink);
  const line = bytes(`run ${V4} q 1000 60000 3\r\n`);
  parser.feed(line);
  line.fill(0x78);
  parser.feed(bytes('abc\r\n'));
  t.deepEqual(sink.events, [`cmd ["run","${V4}","q","1000","60000","3"] - "abc"`]);
});

test('an ID token with the bytes of the expected ID gives that ID; any other is parsed as usual', (t) => {
  const ids: (string | null)[] = [];
  const parser = new Parser({
    command(frame) {
      ids.push(frame.jobId(1));
    },
    error() {},
    close() {},
  });
  const expected = V4.replace('9c7e', '8c7e');
  parser.expectId(expected);
  parser.feed(bytes(`complete ${expected} 0\r\n\r\ncomplete ${expected.toUpperCase()} 0\r\n\r\ncomplete ${V4} 0\r\n\r\ncomplete x 0\r\n\r\n`));
  t.deepEqual(ids, [expected, expected, V4, null]);
});
