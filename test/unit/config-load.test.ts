import test from 'ava';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkDirectories } from '../../src/config/directories.js';
import { controlSocketPath } from '../../src/config/control-socket.js';
import { defaultConfigFile, loadConfig, type LoadOptions, type WorkqConfig } from '../../src/config/load.js';

async function scratch(): Promise<{ dir: string; file(content: unknown): Promise<string> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'workq-config-'));
  let count = 0;
  return {
    dir,
    async file(content: unknown) {
      count += 1;
      const file = path.join(dir, `config-${count}.json`);
      await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
      return file;
    },
  };
}

function load(options: LoadOptions): WorkqConfig {
  const result = loadConfig({ env: {}, cwd: '/srv/workq', ...options });
  if (!result.ok) throw new Error(result.error);
  return result.value;
}

function refusal(options: LoadOptions): string {
  const result = loadConfig({ env: {}, cwd: '/srv/workq', ...options });
  if (result.ok) throw new Error('expected a refusal');
  return result.error;
}

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

test('defaults: shared settings, no instances', (t) => {
  const config = load({});
  t.is(config.host, '127.0.0.1');
  t.is(config.logLevel, 'info');
  t.deepEqual(config.cmdlog, { sync: 'interval', syncIntervalMs: 1000, segmentSize: 67108864, cleanIntervalMs: 300000 });
  t.deepEqual(config.instances, []);
  t.is(config.supervisor.maxRestarts, 5);
});

test('config/default.json: one instance 9922 on 127.0.0.1 logging to ./data/9922 of the cwd', (t) => {
  const file = defaultConfigFile();
  t.truthy(file);
  const config = load({ files: [file as string] });
  t.deepEqual(config.instances, [
    {
      name: '9922',
      host: '127.0.0.1',
      port: 9922,
      cmdlog: { path: '/srv/workq/data/9922', sync: 'interval', syncIntervalMs: 1000, segmentSize: 67108864, cleanIntervalMs: 300000 },
      ...SAFETY,
    },
  ]);
});

test('config/example.json is valid with a secret in the environment, and refused without one', (t) => {
  const file = path.join(path.dirname(defaultConfigFile() as string), 'example.json');
  t.regex(refusal({ files: [file] }), /instances\[2\] \("thumbnails"\): refusing to listen on 0\.0\.0\.0 without a secret/);
  const config = load({ files: [file], env: { WORKQ_AUTH_SECRETS: 'an-example-secret-of-32-characters' } });
  t.deepEqual(config.instances[2]?.tls, { cert: '/srv/workq/certs/thumbnails.crt', key: '/srv/workq/certs/thumbnails.key', port: null });
  t.is(config.instances[2]?.limits?.idleTimeoutMs, 600000);
  t.is(config.instances[0]?.limits?.idleTimeoutMs, 0);
  t.deepEqual(
    config.instances.map((instance) => [instance.name, instance.port, instance.cmdlog.sync]),
    [
      ['emails', 9922, 'interval'],
      ['billing', 9923, 'always'],
      ['thumbnails', 9924, 'os'],
    ],
  );
});

test('instances inherit the shared settings and override them one by one', async (t) => {
  const s = await scratch();
  t.teardown(() => rm(s.dir, { recursive: true, force: true }));
  const file = await s.file({
    host: '10.0.0.5',
    auth: { allowUnauthenticated: true },
    cmdlog: { sync: 'always', segmentSize: 1024 },
    instances: [
      { port: 7001, cmdlog: { path: 'a' } },
      { name: 'b', host: '127.0.0.1', port: 7002, cmdlog: { path: '/abs/b', sync: 'interval', syncIntervalMs: 250, segmentSize: 0 } },
      { name: 'mem', port: 7003 },
    ],
  });
  const [a, b, mem] = load({ files: [file] }).instances;
  const open = { ...SAFETY, auth: { secrets: [], allowUnauthenticated: true } };
  t.deepEqual(a, {
    name: '7001',
    host: '10.0.0.5',
    port: 7001,
    cmdlog: { path: '/srv/workq/a', sync: 'always', syncIntervalMs: 1000, segmentSize: 1024, cleanIntervalMs: 300000 },
    ...open,
  });
  t.deepEqual(b, {
    name: 'b',
    host: '127.0.0.1',
    port: 7002,
    cmdlog: { path: '/abs/b', sync: 'interval', syncIntervalMs: 250, segmentSize: 67108864, cleanIntervalMs: 300000 },
    ...open,
  });
  t.is(mem?.cmdlog.path, null);
});

test('precedence: defaults < files in order < environment < arguments', async (t) => {
  const s = await scratch();
  t.teardown(() => rm(s.dir, { recursive: true, force: true }));
  const first = await s.file({ log: { level: 'warn' }, cmdlog: { sync: 'os', syncIntervalMs: 10 }, host: 'first.example' });
  const second = await s.file({ log: { level: 'error' }, cmdlog: { syncIntervalMs: 20 } });
  t.is(load({ files: [first] }).logLevel, 'warn');
  const both = load({ files: [first, second] });
  t.is(both.logLevel, 'error');
  t.is(both.cmdlog.syncIntervalMs, 20);
  t.is(both.cmdlog.sync, 'os');
  t.is(both.host, 'first.example');
  const env = { WORKQ_LOG_LEVEL: 'debug', WORKQ_CMDLOG_SYNC_INTERVAL_MS: '30', WORKQ_HOST: '::1' };
  const withEnv = load({ files: [first, second], env });
  t.is(withEnv.logLevel, 'debug');
  t.is(withEnv.cmdlog.syncIntervalMs, 30);
  t.is(withEnv.host, '::1');
  t.is(load({ files: [first, second], env, args: ['--log-level', 'trace'] }).logLevel, 'trace');
});

test('the environment can hold the instances as JSON', (t) => {
  const config = load({ env: { WORKQ_INSTANCES: '[{"name":"x","port":7010,"cmdlog":{"path":"/d/x"}}]' } });
  t.deepEqual(
    config.instances.map((instance) => [instance.name, instance.port, instance.cmdlog.path]),
    [['x', 7010, '/d/x']],
  );
});

test('arguments are never taken from process.argv implicitly', (t) => {
  const saved = process.argv;
  process.argv = [...saved.slice(0, 2), '--log-level', 'fatal'];
  t.teardown(() => (process.argv = saved));
  t.is(load({}).logLevel, 'info');
});

const refusals: Array<[string, unknown, Record<string, string>, RegExp]> = [
  ['unknown top-level key', { colour: 'blue' }, {}, /configuration param 'colour' not declared in the schema/],
  ['unknown nested key', { cmdlog: { syncEvery: 5 } }, {}, /configuration param 'cmdlog\.syncEvery' not declared/],
  ['unknown instance key', { instances: [{ port: 1, colour: 'x' }] }, {}, /instances\[0\]\.colour: not declared in the schema/],
  ['unknown instance cmdlog key', { instances: [{ port: 1, cmdlog: { fsync: true } }] }, {}, /instances\[0\]\.cmdlog\.fsync: not declared in the schema/],
  ['instance without port', { instances: [{ name: 'a' }] }, {}, /instances\[0\]\.port: is required/],
  ['port out of range', { instances: [{ port: 70000 }] }, {}, /instances\[0\]\.port: must be an integer from 0 to 65535: value was 70000/],
  ['port not a number', { instances: [{ port: '9922' }] }, {}, /instances\[0\]\.port: must be an integer/],
  ['bad instance name', { instances: [{ port: 1, name: 'a b' }] }, {}, /instances\[0\]\.name: must be 1 to 64 characters/],
  ['bad instance host', { instances: [{ port: 1, host: 'no host!' }] }, {}, /instances\[0\]\.host: must be an IP address or a host name/],
  ['bad instance sync', { instances: [{ port: 1, cmdlog: { sync: 'never' } }] }, {}, /instances\[0\]\.cmdlog\.sync: must be one of interval, os, always/],
  [
    'negative instance interval',
    { instances: [{ port: 1, cmdlog: { syncIntervalMs: -5 } }] },
    {},
    /instances\[0\]\.cmdlog\.syncIntervalMs: must be an integer number of milliseconds/,
  ],
  [
    'instance interval beyond timers',
    { instances: [{ port: 1, cmdlog: { cleanIntervalMs: 2 ** 31 } }] },
    {},
    /instances\[0\]\.cmdlog\.cleanIntervalMs: .*2147483647/,
  ],
  ['empty instance path', { instances: [{ port: 1, cmdlog: { path: '' } }] }, {}, /instances\[0\]\.cmdlog\.path: must be a directory path/],
  ['instances not an array', { instances: { port: 1 } }, {}, /instances: must be an array/],
  ['instance not an object', { instances: [9922] }, {}, /instances\[0\]: must be an object/],
  ['bad shared sync', { cmdlog: { sync: 'sometimes' } }, {}, /cmdlog\.sync: must be one of the possible values/],
  ['bad shared host', { host: '' }, {}, /host: must be an IP address or a host name/],
  ['bad log level', { log: { level: 'loud' } }, {}, /log\.level: must be one of the possible values/],
  ['fractional segment size', { cmdlog: { segmentSize: 1.5 } }, {}, /cmdlog\.segmentSize: must be a non-negative integer number of bytes/],
  [
    'bad environment number',
    {},
    { WORKQ_CMDLOG_SYNC_INTERVAL_MS: '12abc' },
    /cmdlog\.syncIntervalMs: must be an integer number of milliseconds.*value was "12abc"/,
  ],
  ['bad environment instances', {}, { WORKQ_INSTANCES: '[{"port":' }, /instances: must be an array/],
  [
    'sync interval 0 with interval',
    { instances: [{ port: 1, cmdlog: { syncIntervalMs: 0 } }] },
    {},
    /instances\[0\] \("1"\): cmdlog\.syncIntervalMs \(-cmdlog-sync-int\) must be greater than 0 with sync "interval"/,
  ],
  [
    'shared sync interval 0 inherited',
    { cmdlog: { syncIntervalMs: 0 }, instances: [{ port: 1 }] },
    {},
    /cmdlog\.syncIntervalMs \(-cmdlog-sync-int\) must be greater than 0/,
  ],
  [
    'clean interval 0',
    { instances: [{ port: 1, cmdlog: { cleanIntervalMs: 0 } }] },
    {},
    /instances\[0\] \("1"\): cmdlog\.cleanIntervalMs \(-cmdlog-clean-int\) must be greater than 0/,
  ],
  [
    'a short secret',
    { auth: { secrets: ['short'] } },
    {},
    /auth\.secrets: must be a list of secrets, each 16 to 1024 printable ASCII characters without space or comma/,
  ],
  [
    'a secret with a space',
    { instances: [{ port: 1, auth: { secrets: ['with a space in it, long enough'] } }] },
    {},
    /instances\[0\]\.auth\.secrets: must be a list of secrets/,
  ],
  ['a short secret from the environment', {}, { WORKQ_AUTH_SECRETS: 'long-enough-secret-1,short' }, /auth\.secrets: must be a list of secrets/],
  ['an unknown auth key', { instances: [{ port: 1, auth: { password: 'x' } }] }, {}, /instances\[0\]\.auth\.password: not declared in the schema/],
  [
    'a certificate without key',
    { tls: { cert: 'c.pem' }, instances: [{ port: 1 }] },
    {},
    /instances\[0\] \("1"\): tls\.cert and tls\.key must be set together/,
  ],
  [
    'a TLS port equal to the plain port',
    { instances: [{ port: 7000, tls: { cert: 'c', key: 'k', port: 7000 } }] },
    {},
    /tls\.port 7000 is the instance's plain TCP port/,
  ],
  ['max clients 0', { limits: { maxClients: 0 } }, {}, /limits\.maxClients: must be a positive integer/],
  [
    'a negative idle timeout',
    { instances: [{ port: 1, limits: { idleTimeoutMs: -1 } }] },
    {},
    /instances\[0\]\.limits\.idleTimeoutMs: must be an integer number of milliseconds/,
  ],
  [
    'all interfaces without a secret',
    { instances: [{ port: 1, host: '0.0.0.0' }] },
    {},
    /instances\[0\] \("1"\): refusing to listen on 0\.0\.0\.0 without a secret/,
  ],
  ['a LAN address without a secret', { host: '192.168.1.10', instances: [{ port: 1 }] }, {}, /refusing to listen on 192\.168\.1\.10 without a secret/],
  [
    'duplicate port',
    {
      instances: [
        { name: 'a', port: 7000 },
        { name: 'b', port: 7000 },
      ],
    },
    {},
    /instances\[1\] \("b"\): port 7000 is already used by instances\[0\] \("a"\)/,
  ],
  [
    'duplicate name',
    {
      instances: [
        { name: 'a', port: 7000 },
        { name: 'a', port: 7001 },
      ],
    },
    {},
    /instances\[1\] \("a"\): name "a" is already used by instances\[0\]/,
  ],
  [
    'duplicate directory',
    {
      instances: [
        { port: 7000, cmdlog: { path: 'd' } },
        { port: 7001, cmdlog: { path: './x/../d' } },
      ],
    },
    {},
    /instances\[1\] \("7001"\): cmdlog\.path \/srv\/workq\/d is already used by instances\[0\] \("7000"\)/,
  ],
];

for (const [title, content, env, message] of refusals) {
  test(`refuses ${title}, naming the setting`, async (t) => {
    const s = await scratch();
    t.teardown(() => rm(s.dir, { recursive: true, force: true }));
    const error = refusal({ files: [await s.file(content)], env });
    t.regex(error, /^invalid configuration: /);
    t.regex(error, message);
    t.false(error.includes('\n'));
  });
}

test('sync interval 0 is accepted with os and always (the interval is ignored)', async (t) => {
  const s = await scratch();
  t.teardown(() => rm(s.dir, { recursive: true, force: true }));
  const file = await s.file({
    cmdlog: { syncIntervalMs: 0 },
    instances: [
      { port: 1, cmdlog: { sync: 'os' } },
      { port: 2, cmdlog: { sync: 'always' } },
    ],
  });
  t.is(load({ files: [file] }).instances.length, 2);
});

test('ports 0 do not clash (each picks a free one)', async (t) => {
  const s = await scratch();
  t.teardown(() => rm(s.dir, { recursive: true, force: true }));
  t.is(
    load({
      files: [
        await s.file({
          instances: [
            { name: 'a', port: 0 },
            { name: 'b', port: 0 },
          ],
        }),
      ],
    }).instances.length,
    2,
  );
});

test('a missing or malformed file is refused with its path', async (t) => {
  const s = await scratch();
  t.teardown(() => rm(s.dir, { recursive: true, force: true }));
  t.regex(refusal({ files: [path.join(s.dir, 'nope.json')] }), /config file .*nope\.json: cannot read it \(ENOENT\)/);
  t.regex(refusal({ files: [await s.file('{ "host": ')] }), /config file .*config-1\.json: not valid JSON/);
  t.regex(refusal({ files: [await s.file('[1]')] }), /config file .*config-2\.json: must hold a JSON object/);
});

function settings(name: string, dir: string | null): WorkqConfig['instances'][number] {
  return { name, host: '127.0.0.1', port: 0, cmdlog: { path: dir, sync: 'interval', syncIntervalMs: 1000, segmentSize: 1, cleanIntervalMs: 1 } };
}

test('directories: missing ones that can be created pass, memory-only instances are skipped', async (t) => {
  const s = await scratch();
  t.teardown(() => rm(s.dir, { recursive: true, force: true }));
  t.deepEqual(checkDirectories([settings('a', path.join(s.dir, 'new/deeper')), settings('m', null)]), { ok: true, value: undefined });
});

test('directories: a file in the way is refused', async (t) => {
  const s = await scratch();
  t.teardown(() => rm(s.dir, { recursive: true, force: true }));
  const file = await s.file({});
  const exact = checkDirectories([settings('a', file)]);
  t.false(exact.ok);
  t.regex(exact.ok ? '' : exact.error, /instances\[0\] \("a"\) cmdlog\.path: .*config-1\.json is not a directory/);
  const below = checkDirectories([settings('a', path.join(file, 'sub'))]);
  t.regex(below.ok ? '' : below.error, /is not a directory, so .*sub cannot be created/);
});

test('directories: kernel pseudo file systems are refused, existing or to be created there', (t) => {
  for (const [dir, fs] of [
    ['/proc/self', 'proc'],
    ['/proc/workq-test/data', 'proc'],
    ['/sys/kernel/workq', 'sysfs'],
  ] as const) {
    const result = checkDirectories([settings('a', dir)]);
    t.is(result.ok ? '' : result.error, `instances[0] ("a") cmdlog.path: ${dir} is on the kernel's ${fs} file system, which cannot hold files`);
  }
});

test('directories: a dangling symbolic link on the way is refused', async (t) => {
  const s = await scratch();
  t.teardown(() => rm(s.dir, { recursive: true, force: true }));
  await symlink(path.join(s.dir, 'missing'), path.join(s.dir, 'link'));
  const result = checkDirectories([settings('a', path.join(s.dir, 'link', 'data'))]);
  t.regex(result.ok ? '' : result.error, /link is a symbolic link to a missing target, so .*link\/data cannot be created/);
});

// Root passes every permission check.
(process.getuid?.() === 0 ? test.skip : test)('directories: an unwritable one is refused', async (t) => {
  const s = await scratch();
  const locked = path.join(s.dir, 'locked');
  await mkdir(locked);
  await chmod(locked, 0o500);
  t.teardown(async () => {
    await chmod(locked, 0o700);
    await rm(s.dir, { recursive: true, force: true });
  });
  const exact = checkDirectories([settings('a', locked)]);
  t.regex(exact.ok ? '' : exact.error, /locked is not writable \(EACCES\)/);
  const below = checkDirectories([settings('a', path.join(locked, 'sub'))]);
  t.regex(below.ok ? '' : below.error, /locked \(to create .*sub\) is not writable/);
});

test('directories: the same directory through a symbolic link is refused', async (t) => {
  const s = await scratch();
  t.teardown(() => rm(s.dir, { recursive: true, force: true }));
  const real = path.join(s.dir, 'real');
  await mkdir(real);
  await symlink(real, path.join(s.dir, 'alias'));
  const result = checkDirectories([settings('a', real), settings('b', path.join(s.dir, 'alias'))]);
  t.regex(result.ok ? '' : result.error, /instances\[1\] \("b"\) cmdlog\.path: .*alias is the same directory as instance "a"'s/);
});

test('the control socket is one default per user whatever the configuration, or the setting', (t) => {
  const one = load({ env: { WORKQ_INSTANCES: '[{"port":7001,"cmdlog":{"path":"/d/a"}}]' } });
  const other = load({ env: { WORKQ_INSTANCES: '[{"port":7002,"cmdlog":{"path":"d/b"}}]' }, cwd: '/elsewhere' });
  t.is(controlSocketPath(one), controlSocketPath(other));
  t.is(controlSocketPath(one), path.join(os.tmpdir(), `workq-${process.getuid?.() ?? 0}`, 'control.sock'));
  t.is(controlSocketPath(load({ env: { WORKQ_CONTROL_SOCKET: '/run/workq/w.sock' } })), '/run/workq/w.sock');
});

test('a relative or overlong control socket path is refused', (t) => {
  for (const socket of ['run/w.sock', `/${'x'.repeat(120)}`]) {
    const result = loadConfig({ env: { WORKQ_CONTROL_SOCKET: socket } });
    t.regex(result.ok ? '' : result.error, /supervisor\.controlSocket: must be an absolute path of at most 107 bytes/);
  }
});

test('a misspelt port is named, not only reported missing', (t) => {
  const result = loadConfig({ env: { WORKQ_INSTANCES: '[{"prot":9000}]' } });
  t.is(result.ok ? '' : result.error, 'invalid configuration: instances[0].port: is required (and instances[0].prot: not declared in the schema)');
});

test('liveness timings that contradict each other are refused', (t) => {
  const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
    [{ WORKQ_PING_INTERVAL_MS: '0' }, /supervisor\.pingIntervalMs must be greater than 0/],
    [{ WORKQ_UNRESPONSIVE_AFTER_MS: '0' }, /supervisor\.unresponsiveAfterMs must be greater than 0/],
    [
      { WORKQ_UNRESPONSIVE_AFTER_MS: '5000', WORKQ_REPLACE_UNRESPONSIVE_AFTER_MS: '4000' },
      /replaceUnresponsiveAfterMs \(4000\) must be at least supervisor\.unresponsiveAfterMs \(5000\)/,
    ],
  ];
  for (const [env, expected] of cases) {
    const result = loadConfig({ env });
    t.regex(result.ok ? '' : result.error, expected);
  }
});

test('secrets: shared from the environment as a list, overridden per instance', async (t) => {
  const s = await scratch();
  t.teardown(() => rm(s.dir, { recursive: true, force: true }));
  const file = await s.file({
    limits: { maxClients: 50 },
    instances: [
      { name: 'a', port: 7001, host: '0.0.0.0' },
      { name: 'b', port: 7002, auth: { secrets: ['instance-b-own-secret'] }, limits: { backlog: 100 } },
    ],
  });
  const config = load({ files: [file], env: { WORKQ_AUTH_SECRETS: 'old-secret-0123456789,new-secret-0123456789' } });
  const [a, b] = config.instances;
  t.deepEqual(a?.auth, { secrets: ['old-secret-0123456789', 'new-secret-0123456789'], allowUnauthenticated: false });
  t.deepEqual(b?.auth, { secrets: ['instance-b-own-secret'], allowUnauthenticated: false });
  t.deepEqual(b?.limits, {
    maxClients: 50,
    idleTimeoutMs: 0,
    backlog: 100,
    maxJobMemoryBytes: 1024 * 1024 * 1024,
    maxReplyBufferBytes: 64 * 1024 * 1024,
    maxQueues: 100_000,
    authTimeoutMs: 10_000,
    tlsHandshakeTimeoutMs: 10_000,
  });
  t.deepEqual(config.auth.secrets, ['old-secret-0123456789', 'new-secret-0123456789']);
});
