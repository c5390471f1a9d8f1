import { crc32c as nativeCrc32c } from '@node-rs/crc32';
import test from 'ava';
import fc from 'fast-check';
import { crc32c } from '../../src/cmdlog/crc32c.js';

test('crc32c: the check value of CRC-32C', (t) => {
  const buf = Buffer.from('xx123456789yy');
  t.is(crc32c(buf, 2, 11), 0xe3069283);
  t.is(crc32c(buf, 5, 5), 0, 'empty range');
});

test('crc32c: agrees with the native addon for every length up to past the switch, at any offset', (t) => {
  const data = Buffer.alloc(700);
  for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 7) & 0xff;
  let wrong = 0;
  for (let start = 0; start < 9; start++) {
    for (let end = start; end <= data.length; end++) {
      if (crc32c(data, start, end) !== nativeCrc32c(data.subarray(start, end))) wrong++;
    }
  }
  t.is(wrong, 0);
});

test('crc32c: agrees with the native addon on random bytes', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(20), (bytes, pad) => {
      const buf = Buffer.alloc(pad + bytes.length + 3, 0xa5);
      buf.set(bytes, pad);
      return crc32c(buf, pad, pad + bytes.length) === nativeCrc32c(Buffer.from(bytes));
    }),
  );
  t.pass();
});
