import test from 'ava';
import { SecretCheck, secretCheck } from '../../src/server/auth.js';

test('every configured secret is accepted; prefixes, extensions, case changes and other lengths are not', (t) => {
  const check = new SecretCheck(['first-secret-0123', 'second-secret-4567']);
  t.true(check.accepts('first-secret-0123'));
  t.true(check.accepts('second-secret-4567'));
  for (const wrong of ['', 'first-secret-012', 'first-secret-01234', 'FIRST-SECRET-0123', 'second-secret-4567 ', 'x'.repeat(5000)]) {
    t.false(check.accepts(wrong), wrong.slice(0, 40));
  }
});

test('no secrets: no check at all', (t) => {
  t.is(secretCheck([]), null);
  t.is(secretCheck(undefined), null);
  t.true(secretCheck(['only-secret-abcdef'])?.accepts('only-secret-abcdef'));
  t.throws(() => new SecretCheck([]), { instanceOf: RangeError });
});
