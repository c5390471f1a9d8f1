import test from 'ava';
import { COMMANDS, commandByBytes, commandByName } from '../../src/protocol/commands.js';

test('the command table of docs/protocol.md 5.0, then the extensions', (t) => {
  const rows = COMMANDS.map((s) => [s.name, s.minArgs, s.maxArgs, s.block, s.blockError, s.mutating, s.blocking]);
  t.deepEqual(rows, [
    ['add', 6, 6, true, 'invalid-payload-size', true, false],
    ['schedule', 7, 7, true, 'invalid-payload-size', true, false],
    ['run', 6, 6, true, 'invalid-payload-size', true, true],
    ['result', 3, 3, false, null, false, true],
    ['lease', 3, Infinity, false, null, true, true],
    ['complete', 3, 3, true, 'invalid-payload-size', true, false],
    ['fail', 3, 3, true, 'invalid-result-size', true, false],
    ['delete', 2, 2, false, null, true, false],
    ['inspect', 2, Infinity, false, null, false, false],
    ['auth', 2, 2, false, null, false, false],
    ['touch', 2, 3, false, null, true, false],
    ['pause', 2, 2, false, null, true, false],
    ['resume', 2, 2, false, null, true, false],
    ['retry', 2, 2, false, null, true, false],
    ['retry-failed', 2, 2, false, null, true, false],
  ]);
  t.true(Object.isFrozen(COMMANDS[0]));
});

test('lookup by name and by raw bytes, case-sensitive', (t) => {
  for (const spec of COMMANDS) {
    t.is(commandByName(spec.name), spec);
    const line = Buffer.from(`xx ${spec.name} yy`);
    t.is(commandByBytes(line, 3, 3 + spec.name.length), spec);
  }
  for (const name of [
    '',
    'ADD',
    'ad',
    'addd',
    'lease ',
    'schedules',
    'inspectx',
    'deletes',
    'frobnicate',
    'TOUCH',
    'pauses',
    'resum',
    'retry-faile',
    'retry-failedx',
    'retry-failed-',
  ]) {
    t.is(commandByName(name), undefined, name);
    t.is(commandByBytes(Buffer.from(name), 0, name.length), undefined, name);
  }
  t.is(commandByBytes(Buffer.from('runs'), 0, 3)?.name, 'run');
});

test('each command knows its place in the table', (t) => {
  t.deepEqual(
    COMMANDS.map((spec) => spec.index),
    COMMANDS.map((_, i) => i),
  );
});
