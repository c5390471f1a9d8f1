import test from 'ava';
import fc from 'fast-check';
import { crc32c } from '@node-rs/crc32';
import { writeGoTime, readGoTimeSec, readGoTimeNsec, writeGoTimeMs, toMs } from '../../src/cmdlog/go-time.js';
import { uvarintLength, writeUvarint, zigzag, unzigzag32 } from '../../src/cmdlog/varint.js';
import { idToString, writeId } from '../../src/cmdlog/job-id.js';
import { decodePayload, JOB_FIELDS, PayloadDecoder, payloadExpiresAt, type Payload } from '../../src/cmdlog/payload.js';
import { DropBook } from '../../src/cmdlog/drop-book.js';
import { HEADER } from '../../src/cmdlog/record.js';
import { checkRecords } from '../../src/cmdlog/segment-check.js';
import { Job } from '../../src/jobs/job.js';
import { RecordScanner, MAX_PAYLOAD_SIZE } from '../../src/cmdlog/record.js';
import { segmentName, segmentNumber } from '../../src/cmdlog/segment-files.js';
import { idPayload, jobPayload, record, resultPayload, RecordType, segment, restoredJob } from '../helpers/cmdlog-records.js';
import { flipBits } from '../helpers/bytes.js';
import { Queue } from '../../src/jobs/queue.js';

// Section numbers in the test titles refer to docs/command-log.md.

const hex = (s: string): Buffer => Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex');

// docs/command-log.md 12.1, as the original wrote it.
const HEXDUMP_12_1 = hex(`
7771 7771 0000 0001 0100 0000 0ee2 9d83
bc0a d360 feff ff41 018c 5b8a 2e6d 1f4b
3a9c 7e2f 1a0b 9c8d 7e04 7069 6e67 8827
e0d4 0303 0301 0470 696e 6701 0000 0000
0000 0000 0000 0000 ffff 0100 0000 0ee2
9d83 bc0a ce9b 9bff ff9e b5b9 1201 0000
000e e29d 83bc 10d3 e5c4 ffff 1107 8c5b
8a2e 6d1f 4b3a 9c7e 2f1a 0b9c 8d7e 2c79
df5d 0100 0000 0ee2 9d83 bc16 d6f8 2fff
ff16 038c 5b8a 2e6d 1f4b 3a9c 7e2f 1a0b
9c8d 7e04 706f 6e67 cb40 34f7 0100 0000
0ee2 9d83 bc1c daac 64ff ff11 058c 5b8a
2e6d 1f4b 3a9c 7e2f 1a0b 9c8d 7eac a32c
51`);

const ID = '8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e';
const SEC = 1795919036;

test('CRC-32C check value', (t) => {
  t.is(crc32c(Buffer.from('123456789')), 0xe3069283);
});

test('uvarint examples of 6.2', (t) => {
  const cases: Array<[number, string]> = [
    [0, '00'],
    [127, '7f'],
    [128, '8001'],
    [1000, 'e807'],
    [5000, '8827'],
    [60000, 'e0d403'],
    [2592000000, '8090fbd309'],
  ];
  for (const [n, bytes] of cases) {
    const buf = Buffer.alloc(10);
    const end = writeUvarint(buf, 0, n);
    t.is(buf.subarray(0, end).toString('hex'), bytes, String(n));
    t.is(uvarintLength(n), end);
  }
});

test('zig-zag examples of 6.2', (t) => {
  const cases: Array<[number, string]> = [
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [-2, '03'],
    [10, '14'],
    [-7, '0d'],
    [300, 'd804'],
    [2147483647, 'feffffff0f'],
    [-2147483648, 'ffffffff0f'],
  ];
  for (const [n, bytes] of cases) {
    const buf = Buffer.alloc(10);
    const end = writeUvarint(buf, 0, zigzag(n));
    t.is(buf.subarray(0, end).toString('hex'), bytes, String(n));
    t.is(unzigzag32(zigzag(n)), n);
  }
});

test('time examples of 6.1', (t) => {
  const buf = Buffer.alloc(15);
  writeGoTime(buf, 0, SEC, 181625086);
  t.is(buf.toString('hex'), '010000000ee29d83bc0ad360feffff');
  writeGoTime(buf, 0, Date.UTC(2030, 0, 2, 3, 4, 5) / 1000, 500000000);
  t.is(buf.toString('hex'), '010000000ee86f4c251dcd6500ffff');
  writeGoTime(buf, 0, 0, 0);
  t.is(buf.toString('hex'), '01000000000000000000000000ffff');
  t.is(readGoTimeSec(buf, 0), 0);
  writeGoTimeMs(buf, 0, 1795919036181);
  t.is(readGoTimeSec(buf, 0), SEC);
  t.is(readGoTimeNsec(buf, 0), 181000000);
  t.is(toMs(SEC, 181999999), SEC * 1000 + 181);
  // A non-UTC offset denotes the same instant.
  const other = hex('010000000ee29d83bc0ad360fe0078');
  t.is(readGoTimeSec(other, 0), SEC);
});

test('the segment of 12.1 is reproduced byte for byte and decodes back', (t) => {
  const job = restoredJob({
    id: ID,
    name: 'ping',
    ttr: 5000,
    ttl: 60000,
    priority: -2,
    maxAttempts: 3,
    maxFails: 1,
    payload: Buffer.from('ping'),
    createdSec: SEC,
    createdNsec: 181312411,
  });
  const built = segment(
    record(SEC, 181625086, jobPayload(RecordType.Add, job)),
    record(SEC, 282322372, idPayload(RecordType.StartAttempt, ID)),
    record(SEC, 383186991, resultPayload(RecordType.Complete, ID, 'pong')),
    record(SEC, 484093028, idPayload(RecordType.Delete, ID)),
  );
  t.is(built.length, 209);
  t.deepEqual(built, HEXDUMP_12_1);

  const scanner = new RecordScanner();
  const decoded: Payload[] = [];
  for (let pos = 8; pos < HEXDUMP_12_1.length; pos = scanner.next) {
    t.is(scanner.scan(HEXDUMP_12_1, pos, HEXDUMP_12_1.length), 'ok');
    const p = decodePayload(HEXDUMP_12_1, scanner.payloadStart, scanner.payloadEnd);
    if (typeof p === 'string') return t.fail(p);
    decoded.push(p);
  }
  t.deepEqual(decoded, [
    { type: RecordType.Add, job },
    { type: RecordType.StartAttempt, id: ID },
    { type: RecordType.Complete, id: ID, result: 'pong' },
    { type: RecordType.Delete, id: ID },
  ]);
});

test('schedule payload of 12.2', (t) => {
  const id = '6ba7b810-9dad-41d1-80b4-00c04fd430c9';
  const expected = hex(
    '02 6ba7b8109dad41d180b400c04fd430c9 04 70696e67 f403 d00f 00 00 00 02 6869 01 0000000ee86f4c25 1dcd6500 ffff 01 0000000ee29d82ab 13dd928c ffff',
  );
  const created = 0x0ee29d82ab - 62135596800;
  const job = restoredJob({
    id,
    name: 'ping',
    ttr: 500,
    ttl: 2000,
    payload: Buffer.from('hi'),
    timeSec: Date.UTC(2030, 0, 2, 3, 4, 5) / 1000,
    timeNsec: 500000000,
    createdSec: created,
    createdNsec: 0x13dd928c,
  });
  t.deepEqual(jobPayload(RecordType.Schedule, job), expected);
  t.deepEqual(decodePayload(expected, 0, expected.length), { type: RecordType.Schedule, job });
  t.is(payloadExpiresAt(expected, 0, expected.length), Date.UTC(2030, 0, 2, 3, 4, 5) + 500 + 2000);
  t.deepEqual(resultPayload(RecordType.Fail, '6ba7b810-9dad-41d1-80b4-00c04fd430ca', 'bad'), hex('04 6ba7b8109dad41d180b400c04fd430ca 03 626164'));
  t.deepEqual(idPayload(RecordType.TimeoutAttempt, '6ba7b810-9dad-41d1-80b4-00c04fd430ca'), hex('08 6ba7b8109dad41d180b400c04fd430ca'));
});

const v4Id = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => {
  const buf = Buffer.from(b);
  buf[6] = (buf[6]! & 0x0f) | 0x40;
  buf[8] = (buf[8]! & 0x3f) | 0x80;
  return idToString(buf, 0);
});
const nameArb = fc.stringMatching(/^[A-Za-z0-9_.-]{1,255}$/);
const timeArb = fc.record({ sec: fc.integer({ min: 1, max: 8_000_000_000 }), nsec: fc.integer({ min: 0, max: 999_999_999 }) });
const jobArb = fc
  .record({
    id: v4Id,
    name: nameArb,
    ttr: fc.integer({ min: 1, max: 86_400_000 }),
    ttl: fc.integer({ min: 1, max: 2_592_000_000 }),
    priority: fc.integer({ min: -2147483648, max: 2147483647 }),
    maxAttempts: fc.integer({ min: 0, max: 255 }),
    maxFails: fc.integer({ min: 0, max: 255 }),
    payload: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    created: timeArb,
    time: fc.option(timeArb, { nil: undefined }),
  })
  .map(({ created, time, ...rest }) => ({
    ...rest,
    createdSec: created.sec,
    createdNsec: created.nsec,
    timeSec: time?.sec ?? 0,
    timeNsec: time?.nsec ?? 0,
  }));

test('job payloads round-trip (property)', (t) => {
  fc.assert(
    fc.property(jobArb, fc.constantFrom(RecordType.Add, RecordType.Schedule), timeArb, (job, type, at) => {
      const rec = record(at.sec, at.nsec, jobPayload(type, job));
      const scanner = new RecordScanner();
      if (scanner.scan(rec, 0, rec.length) !== 'ok' || scanner.next !== rec.length) return false;
      t.deepEqual(decodePayload(rec, scanner.payloadStart, scanner.payloadEnd), { type, job });
      return readGoTimeSec(rec, 0) === at.sec && readGoTimeNsec(rec, 0) === at.nsec;
    }),
  );
});

test('payloadExpiresAt reads in place the expiration the engine gives the job (property)', (t) => {
  fc.assert(
    fc.property(jobArb, fc.constantFrom(RecordType.Add, RecordType.Schedule), (job, type) => {
      const payload = jobPayload(type, job);
      const live = Job.create(
        job.id,
        new Queue(job.name),
        job.ttr,
        job.ttl,
        job.priority,
        job.maxAttempts,
        job.maxFails,
        job.payload.toString('latin1'),
        job.createdSec,
        job.createdNsec,
        job.timeSec,
        job.timeNsec,
        false,
      );
      return payloadExpiresAt(payload, 0, payload.length) === live.expiresAt;
    }),
  );
  t.pass();
});

/** What replay hands the engine of an add/schedule record, from a decoder that decoded or adopted it. */
function restored(d: PayloadDecoder): Record<string, unknown> {
  const { id, name, ttr, ttl, priority, maxAttempts, maxFails, createdSec, createdNsec, timeSec, timeNsec } = d;
  return { type: d.type, id, name, ttr, ttl, priority, maxAttempts, maxFails, payload: Buffer.from(d.payload), createdSec, createdNsec, timeSec, timeNsec };
}

test('a job decoded where it is read is taken up from its fields as if decoded again (property)', (t) => {
  fc.assert(
    fc.property(jobArb, fc.constantFrom(RecordType.Add, RecordType.Schedule), fc.nat({ max: 40 }), fc.nat({ max: 3 }), (job, type, pad, index) => {
      const payload = jobPayload(type, job);
      const buf = Buffer.concat([Buffer.alloc(pad, 0xee), payload, Buffer.alloc(7, 0xee)]);
      const read = new PayloadDecoder();
      if (read.decode(buf, pad, pad + payload.length) !== null) return false;
      const fields = new Float64Array(JOB_FIELDS * (index + 1));
      read.writeJobFields(fields, JOB_FIELDS * index, index % 2 === 0);
      const replay = new PayloadDecoder();
      if (!replay.adoptJob(buf, pad, fields, JOB_FIELDS * index)) return false;
      t.deepEqual(restored(replay), restored(read));
      t.deepEqual(restored(replay), { type, ...job });
      t.is(replay.idIsNew, index % 2 === 0);
      return read.expiresAt === payloadExpiresAt(buf, pad, pad + payload.length);
    }),
  );
});

test('fields marked as not decoded, or past the end of the run, are left to decode', (t) => {
  const payload = jobPayload(RecordType.Add, restoredJob({ id: ID, createdSec: SEC }));
  const decoder = new PayloadDecoder();
  t.false(decoder.adoptJob(payload, 0, new Float64Array(JOB_FIELDS), 0));
  t.false(decoder.adoptJob(payload, 0, new Float64Array(JOB_FIELDS), JOB_FIELDS));
});

test('checked with a decoder, a run carries the fields of the jobs that decode, in file order; other records, and jobs that do not decode, are marked', (t) => {
  const ids = Array.from({ length: 40 }, (_, i) => `8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c${String(i).padStart(4, '0')}`);
  const badName = jobPayload(RecordType.Add, restoredJob({ id: ids[2]!, name: 'q', createdSec: SEC }));
  // The name's one byte, after type, ID and its length: a space is not a name byte.
  badName[1 + 16 + 1] = 0x20;
  const jobs = [
    jobPayload(RecordType.Add, restoredJob({ id: ids[0]!, name: 'q', ttr: 1000, ttl: 60_000, payload: Buffer.from('a'), createdSec: SEC })),
    resultPayload(RecordType.Complete, ids[0]!, 'r'),
    badName,
    jobPayload(RecordType.Schedule, restoredJob({ id: ids[3]!, name: 'other', priority: -3, createdSec: SEC, timeSec: SEC + 5 })),
    // Many short records: more than the room a run starts with.
    ...ids.slice(4).map((id) => jobPayload(RecordType.Add, restoredJob({ id, name: 'q', createdSec: SEC }))),
  ];
  const buf = segment(...jobs.map((p) => record(SEC, 0, p)));
  // Fields of an earlier run, to be overwritten or marked: a run starts with the worker's spares.
  const run = checkRecords(buf, HEADER.length, buf.length, new DropBook(), { decoder: new PayloadDecoder(), fields: new Float64Array(8 * JOB_FIELDS).fill(7) });
  t.is(run.failure, null);
  t.is(run.dropAt.length, jobs.length);
  const fields = run.jobs!;
  t.true(fields.length >= JOB_FIELDS * jobs.length, 'grown past the 8 records it had room for');
  const scanner = new RecordScanner();
  const adopted: Array<Record<string, unknown> | null> = [];
  for (let r = 0, p = HEADER.length; r < jobs.length; r++, p = scanner.next) {
    scanner.frame(buf, p, buf.length);
    const replay = new PayloadDecoder();
    adopted.push(replay.adoptJob(buf, scanner.payloadStart, fields, r * JOB_FIELDS) ? restored(replay) : null);
    const decoded = new PayloadDecoder();
    if (adopted[r] !== null && decoded.decode(buf, scanner.payloadStart, scanner.payloadEnd) === null) t.deepEqual(adopted[r], restored(decoded));
  }
  t.deepEqual(
    adopted.map((a) => (a === null ? null : a['id'])),
    [ids[0], null, null, ...ids.slice(3)],
  );
  t.like(adopted[3], { type: RecordType.Schedule, name: 'other', priority: -3, timeSec: SEC + 5 });
  t.is(checkRecords(buf, HEADER.length, buf.length, new DropBook()).jobs, null, 'without a decoder, no fields');
});

test('payloadExpiresAt on bytes that do not decode ends without reading past them (property)', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat({ max: 20 }), (bytes, pad) => {
      const buf = Buffer.concat([Buffer.from(bytes), Buffer.alloc(pad, 0xff)]);
      return Number.isFinite(payloadExpiresAt(buf, 0, bytes.length));
    }),
  );
  t.pass();
});

test('result and id payloads round-trip (property)', (t) => {
  fc.assert(
    fc.property(v4Id, fc.uint8Array({ maxLength: 2000 }), fc.constantFrom(RecordType.Complete, RecordType.Fail), (id, result, type) => {
      const r = Buffer.from(result).toString('latin1');
      t.deepEqual(decodePayload(resultPayload(type, id, r), 0, resultPayload(type, id, r).length), { type, id, result: r });
      for (const idType of [RecordType.Delete, RecordType.Expire, RecordType.StartAttempt, RecordType.TimeoutAttempt]) {
        const p = idPayload(idType, id);
        t.deepEqual(decodePayload(p, 0, p.length), { type: idType, id });
      }
    }),
  );
});

test('ids convert both ways', (t) => {
  const buf = Buffer.alloc(16);
  writeId(buf, 0, ID.toUpperCase());
  t.is(idToString(buf, 0), ID);
});

test('payload decoding errors carry the original texts', (t) => {
  const job = restoredJob({ id: ID });
  const good = jobPayload(RecordType.Add, job);
  t.is(decodePayload(good, 0, 0), 'EOF');
  t.is(decodePayload(good, 0, good.length - 1), 'unexpected EOF');
  const long = Buffer.concat([good, Buffer.from([0])]);
  t.is(decodePayload(long, 0, long.length), 'trailing garbage detected');
  t.is(decodePayload(Buffer.from([15]), 0, 1), 'unknown record type 15');
  t.is(decodePayload(Buffer.from([0, 1]), 0, 2), 'unknown record type 0');
  const bad = (fields: Partial<typeof job>, text: string): void => {
    const p = jobPayload(RecordType.Add, { ...job, ...fields });
    t.is(decodePayload(p, 0, p.length), text);
  };
  bad({ id: '6ba7b810-9dad-11d1-80b4-00c04fd430c4' }, 'Invalid ID');
  bad({ name: 'a b' }, 'Invalid Name');
  bad({ name: '' }, 'Invalid Name');
  bad({ name: 'x'.repeat(256) }, 'Invalid Name');
  bad({ ttr: 0 }, 'Invalid TTR');
  bad({ ttr: 86_400_001 }, 'Invalid TTR');
  bad({ ttl: 0 }, 'Invalid TTL');
  bad({ ttl: 2_592_000_001 }, 'Invalid TTL');
  bad({ payload: Buffer.alloc(1_048_577, 'x') }, 'Invalid Payload');
  const r = resultPayload(RecordType.Complete, ID, 'x'.repeat(1_048_577));
  t.is(decodePayload(r, 0, r.length), 'Invalid Result');
  const nonV4 = resultPayload(RecordType.Fail, '00000000-0000-0000-0000-000000000000', '');
  t.is(decodePayload(nonV4, 0, nonV4.length), 'Invalid ID');
  const del = idPayload(RecordType.Delete, '6ba7b810-9dad-11d1-80b4-00c04fd430c4');
  t.is(decodePayload(del, 0, del.length), 'Invalid ID');
  const exp = idPayload(RecordType.Expire, '6ba7b810-9dad-11d1-80b4-00c04fd430c4');
  t.is(typeof decodePayload(exp, 0, exp.length), 'object');
  const trailing = Buffer.concat([idPayload(RecordType.Expire, ID), Buffer.from([1])]);
  t.is(decodePayload(trailing, 0, trailing.length), 'trailing garbage detected');
  const v0 = Buffer.from(good);
  v0[good.length - 15] = 0;
  t.is(decodePayload(v0, 0, v0.length), 'Time.UnmarshalBinary: unsupported version');
  v0[good.length - 15] = 2;
  t.is(decodePayload(v0, 0, v0.length), 'Time.UnmarshalBinary: invalid length');
});

test('varints beyond 2^53 keep their low bits, overflow is refused', (t) => {
  const job = restoredJob({ id: ID, ttr: 7, priority: -3, maxAttempts: 2, maxFails: 1 });
  const p = jobPayload(RecordType.Add, job);
  // Rebuild with ttr = 2^60 + 7, priority zig-zag 2^60 + 5 (low 32 bits: -3), max-attempts 256 + 2, max-fails 512 + 1.
  const nameEnd = 1 + 16 + 1 + 1;
  const big = (n: bigint): Buffer => {
    const out: number[] = [];
    while (n >= 128n) {
      out.push(Number(n & 127n) | 128);
      n >>= 7n;
    }
    out.push(Number(n));
    return Buffer.from(out);
  };
  const ttlBytes = Buffer.alloc(10);
  const ttlEnd = writeUvarint(ttlBytes, 0, job.ttl);
  const tail = p.subarray(nameEnd + 1 + ttlEnd + 3);
  const rebuilt = Buffer.concat([
    p.subarray(0, nameEnd),
    big((1n << 60n) + 7n),
    ttlBytes.subarray(0, ttlEnd),
    big((1n << 60n) + 5n),
    big(258n),
    big(513n),
    tail,
  ]);
  const decoded = decodePayload(rebuilt, 0, rebuilt.length);
  if (typeof decoded === 'string') return t.fail(decoded);
  t.deepEqual(decoded, { type: RecordType.Add, job });
  const overflow = Buffer.concat([p.subarray(0, nameEnd), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02])]);
  t.is(decodePayload(overflow, 0, overflow.length), 'binary: varint overflows a 64-bit integer');
});

test('scanner: torn, crc mismatch, oversized and overflowing SIZE', (t) => {
  const rec = record(SEC, 0, idPayload(RecordType.Delete, ID));
  const s = new RecordScanner();
  for (let cut = 0; cut < rec.length; cut++) t.is(s.scan(rec, 0, cut), 'torn', `cut ${cut}`);
  const flipped = Buffer.from(rec);
  flipBits(flipped, 20, 1);
  t.is(s.scan(flipped, 0, flipped.length), 'crc-mismatch');
  const huge = Buffer.alloc(30);
  rec.copy(huge, 0, 0, 15);
  const end = writeUvarint(huge, 15, MAX_PAYLOAD_SIZE + 1);
  t.is(s.scan(huge, 0, end + 4), 'size-too-large');
  const over = Buffer.concat([rec.subarray(0, 15), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), Buffer.alloc(8)]);
  t.is(s.scan(over, 0, over.length), 'size-overflow');
});

test('segment file names', (t) => {
  t.is(segmentName(7), '000000007.log');
  t.is(segmentNumber('000000007.log'), 7);
  t.is(segmentNumber('123456789.log'), 123456789);
  for (const bad of ['00000001.log', '0000000010.log', '00000000a.log', '000000009.txt', '000000001.log.rw', 'append.lock', '000000001xlog']) {
    t.is(segmentNumber(bad), -1, bad);
  }
});
