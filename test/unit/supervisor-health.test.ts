import test from 'ava';
import { judgeHealth, judgeSilence } from '../../supervisor/health.js';

test('the whole is ready only when every instance serves', (t) => {
  t.is(judgeHealth(['ready', 'ready']), 'ready');
  t.is(judgeHealth(['ready', 'starting']), 'changing');
  t.is(judgeHealth(['ready', 'backoff']), 'changing', 'a crashed server being restarted is on its way back');
  t.is(judgeHealth(['stopping', 'ready']), 'changing', 'a server being replaced is on its way back');
});

test('an instance left down or hung makes it degraded; every instance left down means none can serve', (t) => {
  t.is(judgeHealth(['ready', 'failed']), 'degraded');
  t.is(judgeHealth(['unresponsive', 'ready']), 'degraded');
  t.is(judgeHealth(['failed', 'starting']), 'degraded', 'a retry under way does not hide the other one left down');
  t.is(judgeHealth(['failed']), 'down');
  t.is(judgeHealth(['failed', 'failed']), 'down');
});

test('a silent child is alive, then unresponsive, then replaced, at the configured times', (t) => {
  const limits = { unresponsiveAfterMs: 3000, replaceUnresponsiveAfterMs: 20_000 };
  t.deepEqual(
    [0, 2999, 3000, 19_999, 20_000, 60_000].map((silentMs) => judgeSilence(silentMs, limits)),
    ['alive', 'alive', 'unresponsive', 'unresponsive', 'replace', 'replace'],
  );
  t.is(judgeSilence(5000, { unresponsiveAfterMs: 5000, replaceUnresponsiveAfterMs: 5000 }), 'replace', 'equal limits replace at once');
});
