import test from 'ava';
import { RestartPolicy } from '../../supervisor/restart-policy.js';
import { isChildMessage, isPrimaryMessage } from '../../supervisor/messages.js';

test('the restart delay doubles from 100 ms up to 10 s', (t) => {
  const policy = new RestartPolicy(100, 1_000_000);
  const delays = Array.from({ length: 10 }, (_, i) => policy.onCrash(i));
  t.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000, 10000]);
});

test('more than maxRestarts crashes within the window leave the server down', (t) => {
  const policy = new RestartPolicy(3, 60_000);
  t.deepEqual([0, 1000, 2000].map((at) => policy.onCrash(at)), [100, 200, 400]);
  t.is(policy.onCrash(3000), null);
});

test('crashes older than the window are forgotten, and reset forgets them all', (t) => {
  const policy = new RestartPolicy(2, 10_000);
  t.is(policy.onCrash(0), 100);
  t.is(policy.onCrash(5_000), 200);
  t.is(policy.onCrash(12_000), 200, 'the crash at 0 left the window');
  policy.reset();
  t.is(policy.onCrash(12_500), 100);
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
