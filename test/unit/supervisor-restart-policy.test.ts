import test from 'ava';
import { RestartPolicy } from '../../supervisor/restart-policy.js';
import { isChildMessage, isPrimaryMessage } from '../../supervisor/messages.js';

test('the first crash restarts at once; repeated crashes back off from 100 ms, doubling up to 10 s', (t) => {
  const policy = new RestartPolicy(100, 1_000_000);
  const delays = Array.from({ length: 11 }, (_, i) => policy.onCrash(i));
  t.deepEqual(delays, [0, 100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000, 10000]);
});

test('more than maxRestarts crashes within the window leave the server down', (t) => {
  const policy = new RestartPolicy(3, 60_000);
  t.deepEqual(
    [0, 1000, 2000].map((at) => policy.onCrash(at)),
    [0, 100, 200],
  );
  t.is(policy.onCrash(3000), null);
});

test('a crash long after the last one is a first crash again: restarted at once', (t) => {
  const policy = new RestartPolicy(5, 10_000);
  t.deepEqual(
    [0, 1_000].map((at) => policy.onCrash(at)),
    [0, 100],
  );
  t.is(policy.onCrash(60_000), 0, 'both earlier crashes left the window');
  t.is(policy.onCrash(60_500), 100);
});

test('crashes older than the window are forgotten, and reset forgets them all', (t) => {
  const policy = new RestartPolicy(2, 10_000);
  t.is(policy.onCrash(0), 0);
  t.is(policy.onCrash(5_000), 100);
  t.is(policy.onCrash(12_000), 100, 'the crash at 0 left the window');
  t.is(policy.onCrash(13_000), null);
  policy.reset();
  t.is(policy.onCrash(13_500), 0);
});

test('IPC messages are recognised by their type', (t) => {
  t.true(isChildMessage({ type: 'ready', host: '127.0.0.1', port: 1 }));
  t.true(isChildMessage({ type: 'failed', code: null, message: 'x' }));
  t.false(isChildMessage({ type: 'stop' }));
  t.false(isChildMessage('ready'));
  t.false(isChildMessage(null));
  t.true(isPrimaryMessage({ type: 'stop' }));
  t.true(isPrimaryMessage({ type: 'status-request', id: 1 }));
  t.false(isPrimaryMessage({ type: 'ready' }));
  t.false(isPrimaryMessage({ type: 7 }));
});
