import test from 'ava';
import { daysFromCivil, formatUtcSeconds } from '../../src/protocol/calendar.js';
import { isV4Id, parseI32, parseJobId, parseSize, parseTime, parseU16, parseU32, parseU64, parseU8 } from '../../src/protocol/values.js';
import { isValidName } from '../../src/protocol/vocabulary.js';

test('unsigned numbers: digits only, leading zeros, exact upper bounds', (t) => {
  t.is(parseU8('0'), 0);
  t.is(parseU8('255'), 255);
  t.is(parseU8('000000000000000000000255'), 255);
  t.is(parseU8('256'), null);
  t.is(parseU16('65535'), 65535);
  t.is(parseU16('65536'), null);
  t.is(parseU32('4294967295'), 4294967295);
  t.is(parseU32('4294967296'), null);
  t.is(parseU32('99999999999999999999999'), null);
  for (const bad of ['', '+1', '-1', ' 1', '1 ', '1.0', '0x10', '1_000', '1e3', '١']) {
    t.is(parseU8(bad), null, bad);
    t.is(parseU32(bad), null, bad);
    t.is(parseU64(bad), null, bad);
  }
});

test('u64: the verdict at 2^64 - 1 is exact', (t) => {
  // 2^64 - 1 has no double of its own: as a number it is 2^64, the nearest one.
  t.is(parseU64('18446744073709551615'), 2 ** 64);
  t.is(parseU64('0018446744073709551615'), 2 ** 64);
  t.is(parseU64('18446744073709551616'), null);
  t.is(parseU64('99999999999999999999'), null);
  t.is(parseU64('100000000000000000000'), null);
  t.is(parseU64('2592000000'), 2592000000);
  t.is(parseU64('0'), 0);
  t.is(parseU64('0000'), 0);
});

test('i32: optional sign, exact bounds', (t) => {
  t.is(parseI32('2147483647'), 2147483647);
  t.is(parseI32('+2147483647'), 2147483647);
  t.is(parseI32('-2147483648'), -2147483648);
  t.is(parseI32('2147483648'), null);
  t.is(parseI32('-2147483649'), null);
  t.is(parseI32('-0'), 0);
  t.is(parseI32('+7'), 7);
  t.is(parseI32('-007'), -7);
  for (const bad of ['', '+', '-', '--1', '+-1', '1-', 'x', '1.5', ' 1']) t.is(parseI32(bad), null, bad);
});

test('size: signed int64 text', (t) => {
  t.is(parseSize('4'), 4);
  t.is(parseSize('+1'), 1);
  t.is(parseSize('-0'), 0);
  t.is(parseSize('-1'), -1);
  t.is(parseSize('0004'), 4);
  t.is(parseSize('9223372036854775807'), 2 ** 63); // 2^63 - 1 as the nearest double
  t.is(parseSize('-9223372036854775808'), -9223372036854775808);
  t.is(parseSize('9223372036854775808'), null);
  t.is(parseSize('-9223372036854775809'), null);
  for (const bad of ['', '+', '-', 'x', '1.0', '0x1', ' 1']) t.is(parseSize(bad), null, bad);
});

test('job IDs accepted by docs/protocol.md 3.2, printed canonically', (t) => {
  const accepted: [string, string][] = [
    ['6BA7B810-9DAD-41D1-80B4-00C04FD430C4', '6ba7b810-9dad-41d1-80b4-00c04fd430c4'],
    ['6ba7b8109dad41d180b400c04fd430c5', '6ba7b810-9dad-41d1-80b4-00c04fd430c5'],
    ['{6ba7b810-9dad-41d1-80b4-00c04fd430c6}', '6ba7b810-9dad-41d1-80b4-00c04fd430c6'],
    ['{6ba7b810-9dad-41d1-80b4-00c04fd430c7', '6ba7b810-9dad-41d1-80b4-00c04fd430c7'],
    ['urn:uuid:6ba7b810-9dad-41d1-80b4-00c04fd430c8', '6ba7b810-9dad-41d1-80b4-00c04fd430c8'],
    ['6ba7b810-9dad-41d1-80b4-00c04fd430c9EXTRA', '6ba7b810-9dad-41d1-80b4-00c04fd430c9'],
    ['-6ba7b810-9dad-41d1-80b4-00c04fd430cb', '6ba7b810-9dad-41d1-80b4-00c04fd430cb'],
    ['6ba7b810-9dad41d1-80b400c04fd430ca', '6ba7b810-9dad-41d1-80b4-00c04fd430ca'],
    ['urn:uuid:6ba7b8109dad41d180b400c04fd430c8', '6ba7b810-9dad-41d1-80b4-00c04fd430c8'],
    ['8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e', '8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e'],
    ['00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000000'],
  ];
  for (const [text, canonical] of accepted) t.is(parseJobId(text), canonical, text);
});

test('job IDs rejected by docs/protocol.md 3.2', (t) => {
  const rejected = [
    '',
    '6ba7b810-9dad-41d1-80b4-00c04fd430c', // 35 bytes with one digit short
    '6ba7b8109dad41d180b400c04fd430c', // 31 bytes
    '6ba7b810-9dad-41d1-80b4-00c04fd430cg',
    '6ba7b810--9dad-41d1-80b4-00c04fd430c4',
    '6ba7b810-9dad-41d1-80b4-00c04fd430c4'.replace('9dad', '9daz'),
    'urn:uuid:12345678-1234-4234-8234', // runs out at a group boundary: the original crashes
    'urn:uuid:12345678-1234-4234-8234-', // dash, then no group
    'urn:uuid:12345678123442348234abcdef', // last group incomplete
    'URN:UUID:6ba7b810-9dad-41d1-80b4-00c04fd430c4',
    '{{6ba7b810-9dad-41d1-80b4-00c04fd430c4}',
    ' 6ba7b810-9dad-41d1-80b4-00c04fd430c4',
    '6ba7b810-9dad-41d1-80b4-00c04fd430\xe94',
  ];
  for (const text of rejected) t.is(parseJobId(text), null, text);
});

test('version check: v4, RFC 4122 variant, not nil', (t) => {
  t.true(isV4Id('8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e'));
  t.true(isV4Id('8c5b8a2e-6d1f-4b3a-8c7e-2f1a0b9c8d7e'));
  t.true(isV4Id('8c5b8a2e-6d1f-4b3a-ac7e-2f1a0b9c8d7e'));
  t.true(isV4Id('8c5b8a2e-6d1f-4b3a-bc7e-2f1a0b9c8d7e'));
  t.false(isV4Id('8c5b8a2e-6d1f-4b3a-cc7e-2f1a0b9c8d7e'));
  t.false(isV4Id('8c5b8a2e-6d1f-4b3a-7c7e-2f1a0b9c8d7e'));
  t.false(isV4Id('6ba7b810-9dad-11d1-80b4-00c04fd430c4'));
  t.false(isV4Id('00000000-0000-0000-0000-000000000000'));
});

test('names: 1 to 255 bytes of A-Z a-z 0-9 _ . -', (t) => {
  for (const good of ['a', 'ping', 'A-Z_a.z-0', '-lead', '.', 'x'.repeat(255)]) t.true(isValidName(good), good);
  for (const bad of ['', 'x'.repeat(256), 'bad$', 'a b', 'a\tb', 'a/b', 'é', 'a=b', 'a\r']) t.false(isValidName(bad), bad);
});

test('schedule times accepted by docs/protocol.md 3.4', (t) => {
  const accepted: [string, number, number][] = [
    ['2030-01-01T00:00:00Z', 1893456000, 0],
    ['1970-01-01T00:00:00Z', 0, 0],
    ['2026-11-29T02:23:45Z', 1795919025, 0],
    ['2030-01-01T1:00:00Z', 1893459600, 0],
    ['2030-01-01T23:59:59Z', 1893542399, 0],
    ['2030-01-01T00:00:00.5Z', 1893456000, 500000000],
    ['2030-01-01T00:00:00,123Z', 1893456000, 123000000],
    ['2030-01-01T00:00:00.123456789Z', 1893456000, 123456789],
    ['2030-01-01T00:00:00.1234567899999Z', 1893456000, 123456789],
    ['2024-02-29T00:00:00Z', 1709164800, 0],
    ['2000-02-29T00:00:00Z', 951782400, 0],
    ['0000-02-29T00:00:00Z', -62162121600, 0],
    ['1969-12-31T23:59:59.25Z', -1, 250000000],
    ['9999-12-31T23:59:59Z', 253402300799, 0],
  ];
  for (const [text, sec, nsec] of accepted) t.deepEqual(parseTime(text), { sec, nsec }, text);
});

test('schedule times rejected by docs/protocol.md 3.4', (t) => {
  const rejected = [
    '',
    'x',
    '2030-01-01T00:00:00', // no Z
    '2030-01-01T00:00:00+00:00',
    '2030-01-01T00:00:00Z ',
    '2030-01-01T00:00:00ZZ',
    '2030-01-01t00:00:00Z',
    '2030-01-01T00:00:00z',
    '2030-01-01 00:00:00Z',
    '2030-01-01T24:00:00Z',
    '2030-01-01T00:60:00Z',
    '2030-01-01T00:00:60Z',
    '2030-01-01T001:00:00Z',
    '2030-01-01T:00:00Z',
    '2030-01-01T00:0:00Z',
    '2030-01-01T00:00:0Z',
    '2030-01-01T00:00:00.Z',
    '2030-01-01T00:00:00.5',
    '2030-00-01T00:00:00Z',
    '2030-13-01T00:00:00Z',
    '2030-01-00T00:00:00Z',
    '2030-01-32T00:00:00Z',
    '2030-02-29T00:00:00Z',
    '1900-02-29T00:00:00Z',
    '2030-04-31T00:00:00Z',
    '2030-1-01T00:00:00Z',
    '2030-01-1T00:00:00Z',
    '30-01-01T00:00:00Z',
    '20300-01-01T00:00:00Z',
    '+030-01-01T00:00:00Z',
    '-030-01-01T00:00:00Z',
    '2030/01/01T00:00:00Z',
    '2030-01-01T00-00:00Z',
  ];
  for (const text of rejected) t.is(parseTime(text), null, text);
});

test('calendar: days and printed times round-trip', (t) => {
  t.is(daysFromCivil(1970, 1, 1), 0);
  t.is(daysFromCivil(2000, 3, 1), 11017);
  t.is(formatUtcSeconds(0), '1970-01-01T00:00:00Z');
  t.is(formatUtcSeconds(1795919025), '2026-11-29T02:23:45Z');
  t.is(formatUtcSeconds(-1), '1969-12-31T23:59:59Z');
  t.is(formatUtcSeconds(-62167219200), '0000-01-01T00:00:00Z');
  t.is(formatUtcSeconds(-62167219201), '-0001-12-31T23:59:59Z');
  t.is(formatUtcSeconds(253402300800), '10000-01-01T00:00:00Z');
  for (let sec = -62167219200; sec < 253402300800; sec += 86400 * 97 + 3671) {
    const text = formatUtcSeconds(sec);
    t.is(parseTime(text)?.sec, sec, text);
    t.is(text, new Date(sec * 1000).toISOString().replace('.000', ''));
  }
});
