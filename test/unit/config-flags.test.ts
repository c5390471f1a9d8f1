import test from 'ava';
import { formatUsage, parseFlags, type FlagValue } from '../../src/config/flags.js';
import { loadConfig, type WorkqConfig } from '../../src/config/load.js';
import { parseListen, SERVER_FLAGS, standaloneSettings } from '../../src/config/standalone.js';
import { parseSupervisorArgs, STATUS_FLAGS, SUPERVISOR_FLAGS } from '../../supervisor/settings.js';

function flags(argv: string[]): Map<string, FlagValue> {
  const parsed = parseFlags(argv, SERVER_FLAGS);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value.values;
}

function config(env: Record<string, string> = {}): WorkqConfig {
  const loaded = loadConfig({ env, cwd: '/srv' });
  if (!loaded.ok) throw new Error(loaded.error);
  return loaded.value;
}

test('Go flag syntax: one or two dashes, separate or joined values', (t) => {
  const expected = new Map<string, FlagValue>([
    ['listen', '127.0.0.1:7000'],
    ['cmdlog-path', '/d'],
    ['cmdlog-sync-int', 50],
  ]);
  t.deepEqual(flags(['-listen', '127.0.0.1:7000', '-cmdlog-path', '/d', '-cmdlog-sync-int', '50']), expected);
  t.deepEqual(flags(['--listen=127.0.0.1:7000', '--cmdlog-path=/d', '-cmdlog-sync-int=50']), expected);
  t.deepEqual(flags(['-cmdlog-path=']).get('cmdlog-path'), '');
  t.deepEqual(flags(['-listen', 'a:1', '-listen', 'b:2']).get('listen'), 'b:2');
  t.deepEqual(flags(['--config', 'a.json', '-config=b.json']).get('config'), ['a.json', 'b.json']);
});

test('flags end at -- or the first non-flag argument', (t) => {
  const stop = parseFlags(['-listen', 'x:1', '--', '-cmdlog-path', 'd'], SERVER_FLAGS);
  t.deepEqual(stop.ok && stop.value.rest, ['-cmdlog-path', 'd']);
  const word = parseFlags(['-listen', 'x:1', 'extra', '-cmdlog-path', 'd'], SERVER_FLAGS);
  t.deepEqual(word.ok && word.value.rest, ['extra', '-cmdlog-path', 'd']);
  const lone = parseFlags(['-'], SERVER_FLAGS);
  t.deepEqual(lone.ok && lone.value.rest, ['-']);
});

test('usage errors as Go reports them', (t) => {
  const cases: Array<[string[], string, boolean]> = [
    [['-verbose'], 'flag provided but not defined: -verbose', false],
    [['--cmdlog-dir=/x'], 'flag provided but not defined: -cmdlog-dir', false],
    [['-listen'], 'flag needs an argument: -listen', false],
    [['-cmdlog-sync-int', 'abc'], 'invalid value "abc" for flag -cmdlog-sync-int: parse error', false],
    [['-cmdlog-seg-size=-1'], 'invalid value "-1" for flag -cmdlog-seg-size: parse error', false],
    [['---listen', 'x'], 'bad flag syntax: ---listen', false],
    [['-=x'], 'bad flag syntax: -=x', false],
    [['-h'], '', true],
    [['--help'], '', true],
  ];
  for (const [argv, message, help] of cases) {
    const parsed = parseFlags(argv, SERVER_FLAGS);
    t.deepEqual(parsed.ok ? null : parsed.error, { message, help }, argv.join(' '));
  }
});

test('boolean flags take no separate value', (t) => {
  const parsed = parseSupervisorArgs(['--json', '--config', 'c.json'], STATUS_FLAGS);
  t.deepEqual(parsed.ok && parsed.value, { files: ['c.json'], args: [], json: true, control: null });
  const explicit = parseFlags(['-json=false'], STATUS_FLAGS);
  t.is(explicit.ok && explicit.value.values.get('json'), false);
  const bad = parseFlags(['-json=maybe'], STATUS_FLAGS);
  t.is(bad.ok ? '' : bad.error.message, 'invalid boolean value "maybe" for -json: parse error');
});

test('supervisor arguments: config files in order, log level as a convict argument, no strays', (t) => {
  const parsed = parseSupervisorArgs(['--config', 'a.json', '--log-level=debug', '--config=b.json'], SUPERVISOR_FLAGS);
  t.deepEqual(parsed.ok && parsed.value, { files: ['a.json', 'b.json'], args: ['--log-level', 'debug'], json: false, control: null });
  const control = parseSupervisorArgs(['--control', '/run/w.sock'], STATUS_FLAGS);
  t.is(control.ok ? control.value.control : '', '/run/w.sock');
  const stray = parseSupervisorArgs(['now'], SUPERVISOR_FLAGS);
  t.deepEqual(stray.ok ? null : stray.error, { usage: true, help: false, message: 'unexpected argument: now' });
  const unknown = parseSupervisorArgs(['-json'], SUPERVISOR_FLAGS);
  t.is(unknown.ok ? '' : unknown.error.message, 'flag provided but not defined: -json');
});

test('usage lists every flag with its default', (t) => {
  const usage = formatUsage(SERVER_FLAGS);
  for (const name of ['listen', 'cmdlog-path', 'cmdlog-sync', 'cmdlog-sync-int', 'cmdlog-clean-int', 'cmdlog-seg-size', 'config']) {
    t.true(usage.includes(`  -${name} `), name);
  }
  t.true(usage.includes('(default "127.0.0.1:9922")'));
  t.true(formatUsage(STATUS_FLAGS).includes('  -json\n'));
});

test('-listen reads HOST:PORT like Go', (t) => {
  t.deepEqual(parseListen('127.0.0.1:9922'), { ok: true, value: { host: '127.0.0.1', port: 9922 } });
  t.deepEqual(parseListen('[::1]:80'), { ok: true, value: { host: '::1', port: 80 } });
  t.deepEqual(parseListen(':9922'), { ok: true, value: { host: '0.0.0.0', port: 9922 } });
  t.deepEqual(parseListen('localhost:0'), { ok: true, value: { host: 'localhost', port: 0 } });
  t.deepEqual(parseListen('9922'), { ok: false, error: 'invalid -listen "9922": expected HOST:PORT' });
  t.deepEqual(parseListen('::1:80'), { ok: false, error: 'invalid -listen "::1:80": expected HOST:PORT' });
  t.deepEqual(parseListen('h:99999'), { ok: false, error: 'invalid -listen "h:99999": port must be an integer from 0 to 65535' });
  t.deepEqual(parseListen('h:'), { ok: false, error: 'invalid -listen "h:": port must be an integer from 0 to 65535' });
  t.deepEqual(parseListen('bad host:1'), { ok: false, error: 'invalid -listen "bad host:1": host must be an IP address or a host name' });
});

/** Authentication, TLS and limits as an instance gets them from a configuration that sets none. */
const SAFETY = {
  auth: { secrets: [], allowUnauthenticated: false },
  tls: null,
  limits: {
    maxClients: 10000,
    idleTimeoutMs: 0,
    backlog: 4096,
    maxJobMemoryBytes: 1024 * 1024 * 1024,
    maxReplyBufferBytes: 64 * 1024 * 1024,
    maxQueues: 100_000,
    authTimeoutMs: 10_000,
    tlsHandshakeTimeoutMs: 10_000,
  },
};

test('standalone without a config: the original defaults, memory only', (t) => {
  const settings = standaloneSettings(config(), flags([]), '/srv');
  t.deepEqual(settings, {
    ok: true,
    value: {
      name: '9922',
      host: '127.0.0.1',
      port: 9922,
      cmdlog: { path: null, sync: 'interval', syncIntervalMs: 1000, segmentSize: 67108864, cleanIntervalMs: 300000 },
      ...SAFETY,
    },
  });
});

test('standalone: the original flags override everything', (t) => {
  const argv = [
    '-listen',
    '127.0.0.2:7000',
    '-cmdlog-path',
    'data',
    '-cmdlog-sync',
    'always',
    '-cmdlog-sync-int',
    '0',
    '-cmdlog-clean-int',
    '5',
    '-cmdlog-seg-size',
    '0',
  ];
  const settings = standaloneSettings(config({ WORKQ_CMDLOG_SEGMENT_SIZE: '100' }), flags(argv), '/srv');
  t.deepEqual(settings, {
    ok: true,
    value: {
      name: '7000',
      host: '127.0.0.2',
      port: 7000,
      cmdlog: { path: '/srv/data', sync: 'always', syncIntervalMs: 0, segmentSize: 67108864, cleanIntervalMs: 5 },
      ...SAFETY,
    },
  });
  const memory = standaloneSettings(config(), flags(['-cmdlog-path=']), '/srv');
  t.is(memory.ok && memory.value.cmdlog.path, null);
});

test('standalone: environment settings are the base the flags override', (t) => {
  const env = { WORKQ_CMDLOG_SYNC: 'os', WORKQ_HOST: '::1' };
  const plain = standaloneSettings(config(env), flags([]), '/srv');
  t.deepEqual(plain.ok && [plain.value.host, plain.value.cmdlog.sync], ['::1', 'os']);
  const flagged = standaloneSettings(config(env), flags(['-cmdlog-sync', 'interval']), '/srv');
  t.is(flagged.ok && flagged.value.cmdlog.sync, 'interval');
});

test('the default retry delay: configuration keys, then the -retry-* flags; 0 means none', (t) => {
  const none = standaloneSettings(config(), flags([]), '/srv');
  t.false(none.ok && 'retryDelay' in none.value);
  const env = { WORKQ_RETRY_DELAY_MS: '250', WORKQ_RETRY_MAX_DELAY_MS: '4000' };
  const configured = standaloneSettings(config(env), flags([]), '/srv');
  t.deepEqual(configured.ok && configured.value.retryDelay, { delayMs: 250, maxDelayMs: 4000, jitterPercent: 0 });
  const flagged = standaloneSettings(config(env), flags(['-retry-delay', '100', '-retry-jitter=20']), '/srv');
  t.deepEqual(flagged.ok && flagged.value.retryDelay, { delayMs: 100, maxDelayMs: 4000, jitterPercent: 20 });
  const off = standaloneSettings(config(env), flags(['-retry-delay', '0']), '/srv');
  t.false(off.ok && 'retryDelay' in off.value);
  t.deepEqual(standaloneSettings(config(), flags(['-retry-jitter', '101']), '/srv'), {
    ok: false,
    error: 'invalid -retry-jitter 101: must be an integer from 0 to 100',
  });
  t.deepEqual(standaloneSettings(config(), flags(['-retry-delay', '86400001']), '/srv'), {
    ok: false,
    error: 'invalid -retry-delay 86400001: must be an integer number of milliseconds from 0 to 86400000',
  });
  const instance = config({ ...env, WORKQ_INSTANCES: '[{"port":7001}]' });
  t.deepEqual(instance.instances[0]!.retryDelay, { delayMs: 250, maxDelayMs: 4000, jitterPercent: 0 });
  const bad = loadConfig({ env: { WORKQ_RETRY_JITTER_PERCENT: '150' }, cwd: '/srv' });
  t.false(bad.ok);
  t.regex(bad.ok ? '' : bad.error, /retry\.jitterPercent: must be an integer from 0 to 100/);
});

test('standalone: a configured instance, chosen by --instance when there are several', (t) => {
  const two = config({ WORKQ_INSTANCES: '[{"name":"a","port":7001,"cmdlog":{"path":"/d/a","sync":"always"}},{"name":"b","port":7002}]' });
  const b = standaloneSettings(two, flags(['--instance', 'b']), '/srv');
  t.deepEqual(b.ok && [b.value.name, b.value.port, b.value.cmdlog.path], ['b', 7002, null]);
  const a = standaloneSettings(two, flags(['--instance', 'a', '-listen', '127.0.0.3:7009']), '/srv');
  t.deepEqual(a.ok && [a.value.name, a.value.host, a.value.port, a.value.cmdlog.sync], ['a', '127.0.0.3', 7009, 'always']);
  t.deepEqual(standaloneSettings(two, flags([]), '/srv'), {
    ok: false,
    error: 'the configuration has 2 instances (a, b): choose one with --instance NAME, or run them all with "workq-server supervise"',
  });
  t.deepEqual(standaloneSettings(two, flags(['--instance', 'c']), '/srv'), { ok: false, error: 'no instance named "c" in the configuration' });
  const one = config({ WORKQ_INSTANCES: '[{"name":"solo","port":7003}]' });
  const solo = standaloneSettings(one, flags([]), '/srv');
  t.is(solo.ok && solo.value.name, 'solo');
  t.is(two.instances[0]?.port, 7001, 'the configuration itself is left as it was');
});

test('standalone refusals name the flag (start-up failures: exit 1)', (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['-cmdlog-sync', 'sometimes'], /^Invalid cmdlog-sync policy: sometimes/],
    [['-cmdlog-sync-int', '0'], /cmdlog\.syncIntervalMs \(-cmdlog-sync-int\) must be greater than 0 with sync "interval"/],
    [['-cmdlog-clean-int', '0'], /cmdlog\.cleanIntervalMs \(-cmdlog-clean-int\) must be greater than 0/],
    [['-cmdlog-clean-int', '3000000000'], /^invalid -cmdlog-clean-int 3000000000: must be an integer number of milliseconds/],
    [['-listen', 'nowhere'], /^invalid -listen "nowhere"/],
  ];
  for (const [argv, message] of cases) {
    const settings = standaloneSettings(config(), flags(argv), '/srv');
    t.regex(settings.ok ? '' : settings.error, message, argv.join(' '));
  }
  for (const sync of ['os', 'always']) {
    t.true(standaloneSettings(config(), flags(['-cmdlog-sync', sync, '-cmdlog-sync-int', '0']), '/srv').ok, sync);
  }
});

test('standalone: -listen beyond loopback is refused without a secret, saying why and what to do', (t) => {
  const refused = standaloneSettings(config(), flags(['-listen', ':7009']), '/srv');
  t.false(refused.ok);
  t.regex(refused.ok ? '' : refused.error, /^instance "7009": refusing to listen on 0\.0\.0\.0 without a secret: .*auth\.secrets.*auth\.allowUnauthenticated/);
  const secret = standaloneSettings(config({ WORKQ_AUTH_SECRETS: 'aaaaaaaaaaaaaaaa,bbbbbbbbbbbbbbbb' }), flags(['-listen', ':7009']), '/srv');
  t.deepEqual(secret.ok && [secret.value.host, secret.value.auth?.secrets], ['0.0.0.0', ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb']]);
  const intended = standaloneSettings(config({ WORKQ_ALLOW_UNAUTHENTICATED: 'true' }), flags(['-listen', '10.1.2.3:7009']), '/srv');
  t.true(intended.ok);
  for (const loopback of ['127.0.0.1:1', '127.9.9.9:1', '[::1]:1', 'localhost:1'])
    t.true(standaloneSettings(config(), flags(['-listen', loopback]), '/srv').ok, loopback);
});

test('standalone: TLS files from the environment resolve against the cwd', (t) => {
  const settings = standaloneSettings(config({ WORKQ_TLS_CERT: 'c.pem', WORKQ_TLS_KEY: '/k/key.pem', WORKQ_TLS_PORT: '9933' }), flags([]), '/srv');
  t.deepEqual(settings.ok && settings.value.tls, { cert: '/srv/c.pem', key: '/k/key.pem', port: 9933 });
  const half = standaloneSettings(config({ WORKQ_TLS_CERT: 'c.pem' }), flags([]), '/srv');
  t.regex(half.ok ? '' : half.error, /tls\.cert and tls\.key must be set together/);
});
