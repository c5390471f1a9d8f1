import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { exited, freePort, root, waitForPort } from '../helpers/process.js';

// What a user gets from the registry: the package is packed as `npm publish` packs it
// (its prepare script builds a copy of the tree, so the dist/ other tests run is left
// alone), installed from the tarball into an empty project, and its two bins and its
// client are used from there. npm takes the dependencies from its cache (--prefer-offline).

interface PackResult {
  name: string;
  version: string;
  filename: string;
  files: { path: string }[];
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], cwd: string, timeoutMs = 120_000, env = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 << 20 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr }),
    );
  });
}

const npm = (args: string[], cwd: string): Promise<Run> => run('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], cwd, 240_000);

/** A build and an install on a busy 2-core machine: far above the usual 30 s, and still bounded. */
const PACK_TIMEOUT_MS = 300_000;

/** Build output, dependencies, data and profiles: what a clone does not have. */
const skipped = new Set(['node_modules', 'dist', '.git', 'data', 'coverage', path.join('bench', 'results', 'prof')]);

function isSkipped(relative: string): boolean {
  return skipped.has(relative.split(path.sep)[0] ?? '') || skipped.has(relative);
}

/** Packs a copy of the tree with its own dist/, as `npm publish` would. */
async function pack(dir: string): Promise<PackResult> {
  const tree = path.join(dir, 'tree');
  await cp(root, tree, { recursive: true, filter: (source) => !isSkipped(path.relative(root, source)) });
  await symlink(path.join(root, 'node_modules'), path.join(tree, 'node_modules'), 'dir');
  const packed = await npm(['pack', '--json', '--pack-destination', dir], tree);
  if (packed.code !== 0) throw new Error(`npm pack failed: ${packed.stderr}`);
  const [result] = JSON.parse(packed.stdout) as PackResult[];
  if (result === undefined) throw new Error(`npm pack reported no package: ${packed.stdout}`);
  return result;
}

let packing: Promise<{ dir: string; result: PackResult; project: string }> | undefined;

/** One pack and one install, shared by the tests of this file. */
function installed(): Promise<{ dir: string; result: PackResult; project: string }> {
  packing ??= (async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'workq-pack-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const result = await pack(dir);
    const project = path.join(dir, 'project');
    await mkdir(project);
    await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    const install = await npm(['install', path.join(dir, result.filename)], project);
    if (install.code !== 0) throw new Error(`npm install of the tarball failed: ${install.stderr}`);
    return { dir, result, project };
  })();
  return packing;
}

/** `workq-server` from the project's node_modules/.bin, memory only, on a free port. */
async function startInstalledServer(project: string): Promise<{ address: string; stop: () => Promise<{ code: number | null; output: string }> }> {
  const port = await freePort();
  const server = spawn(path.join(project, 'node_modules', '.bin', 'workq-server'), ['-listen', `127.0.0.1:${port}`], {
    cwd: project,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  process.once('exit', () => server.kill('SIGKILL'));
  let output = '';
  server.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  server.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitForPort(port);
  return {
    address: `127.0.0.1:${port}`,
    stop: async () => {
      server.kill('SIGTERM');
      return { code: (await exited(server)).code, output };
    },
  };
}

test('the tarball holds the build, the configuration and the documents the README links to; no tests, sources or source maps', async (t) => {
  t.timeout(PACK_TIMEOUT_MS);
  const { result } = await installed();
  const manifest = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { name: string; version: string };
  t.is(result.name, manifest.name);
  t.is(result.version, manifest.version);
  const files = result.files.map((file) => file.path);
  for (const required of [
    'package.json',
    'README.md',
    'LICENSE',
    'ecosystem.config.js',
    'config/default.json',
    'dist/src/cli/workq.js',
    'dist/src/cli/workq-server.js',
    'dist/supervisor/main.js',
    'dist/src/client/index.js',
    'dist/src/client/index.d.ts',
  ]) {
    t.true(files.includes(required), `${required} is packed`);
  }
  const stray = files.filter(
    (file) =>
      !/^(dist\/(src|supervisor)\/.*\.(js|d\.ts)|config\/[\w-]+\.json|docs\/[\w-]+\.md|bench\/README\.md|README\.md|CONTRIBUTING\.md|LICENSE|package\.json|ecosystem\.config\.js)$/.test(
        file,
      ),
  );
  t.deepEqual(stray, [], 'only the build, configuration and documents');

  const readme = await readFile(path.join(root, 'README.md'), 'utf8');
  const links = [...readme.matchAll(/\]\(([^)#:\s]+\.md)(#[^)]*)?\)/g)].map((match) => match[1]!); // group 1 is not optional
  t.true(links.length > 0);
  t.deepEqual(
    links.filter((link) => !files.includes(path.posix.normalize(link))),
    [],
    'every document the README links to is packed',
  );
});

test('workq-server and workq from the installed package: versions, a server, a command against it', async (t) => {
  t.timeout(PACK_TIMEOUT_MS);
  const { result, project } = await installed();
  const bin = (name: string): string => path.join(project, 'node_modules', '.bin', name);
  t.is((await run(bin('workq'), ['--version'], project)).stdout.trim(), result.version);
  t.is((await run(bin('workq-server'), ['--version'], project)).stdout.trim(), result.version);

  const server = await startInstalledServer(project);
  const { address } = server;
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await server.stop();
  });

  const added = await run(bin('workq'), ['--server', address, 'add', 'packed', 'hello from the tarball'], project);
  t.is(added.code, 0, added.stderr);
  const id = added.stdout.trim();
  t.regex(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

  const client = `import { connect } from 'workq-ts';
import { WorkqClient } from 'workq-ts/client';
const client = connect(process.argv[2]);
const job = await client.lease(['packed'], 5000);
await client.complete(job.id, 'done');
console.log(JSON.stringify({ id: job.id, payload: job.payload.toString(), same: client instanceof WorkqClient }));
await client.close();
`;
  await writeFile(path.join(project, 'use-client.js'), client);
  const used = await run(process.execPath, ['use-client.js', address], project);
  t.is(used.code, 0, used.stderr);
  t.deepEqual(JSON.parse(used.stdout), { id, payload: 'hello from the tarball', same: true });

  const done = await run(bin('workq'), ['--server', address, '--json', 'result', id], project);
  t.is(done.code, 0, done.stderr);
  t.deepEqual(JSON.parse(done.stdout), { id, success: true, result: 'done' });

  stopped = true;
  const stop = await server.stop();
  t.is(stop.code, 0, stop.output);
});

test('the client works in a project that has none of the server dependencies', async (t) => {
  t.timeout(PACK_TIMEOUT_MS);
  const { dir, project } = await installed();
  // Only the package itself: no pino, convict, commander, proper-lockfile or @node-rs/crc32.
  const bare = path.join(dir, 'client-only');
  await mkdir(path.join(bare, 'node_modules'), { recursive: true });
  await cp(path.join(project, 'node_modules', 'workq-ts'), path.join(bare, 'node_modules', 'workq-ts'), { recursive: true });
  await writeFile(path.join(bare, 'package.json'), JSON.stringify({ name: 'client-only', private: true, type: 'module' }));
  const server = await startInstalledServer(project);
  t.teardown(() => server.stop());
  const script = `import { connect } from 'workq-ts';
const client = connect(process.argv[2]);
const id = await client.add('client-only', 'no server dependencies here');
const queue = await client.inspectQueue('client-only');
console.log(JSON.stringify({ added: typeof id, ready: queue.readyLen }));
await client.close();
`;
  await writeFile(path.join(bare, 'client.js'), script);
  const used = await run(process.execPath, ['client.js', server.address], bare);
  t.is(used.code, 0, used.stderr);
  t.deepEqual(JSON.parse(used.stdout), { added: 'string', ready: 1 });

  const serverThere = await run(
    process.execPath,
    [path.join(bare, 'node_modules', 'workq-ts', 'dist', 'src', 'cli', 'workq-server.js'), '-listen', '127.0.0.1:0'],
    bare,
    30_000,
  );
  t.not(serverThere.code, 0, 'the server does need its dependencies');
  t.regex(serverThere.stderr, /ERR_MODULE_NOT_FOUND/);
});

test('PM2 runs the installed package from its ecosystem file, in the directory it was started in', async (t) => {
  t.timeout(PACK_TIMEOUT_MS);
  const { dir, project } = await installed();
  // The checkout's PM2 stands in for the global one that the README has users install.
  const pm2 = path.join(root, 'node_modules', '.bin', 'pm2');
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PM2_HOME: path.join(dir, 'pm2'),
    WORKQ_CONTROL_SOCKET: path.join(dir, 'control.sock'),
    WORKQ_INSTANCES: JSON.stringify([{ name: 'packed', port, cmdlog: { path: './data/packed' } }]),
  };
  const inProject = (file: string, args: string[]): Promise<Run> => run(file, args, project, 60_000, env);
  t.teardown(() => inProject(pm2, ['kill']));

  const start = await inProject(pm2, ['start', 'node_modules/workq-ts/ecosystem.config.js']);
  t.is(start.code, 0, start.stdout + start.stderr);
  await waitForPort(port, 60_000);
  const added = await inProject(path.join(project, 'node_modules', '.bin', 'workq'), ['--server', `127.0.0.1:${port}`, 'add', 'pm2', 'kept']);
  t.is(added.code, 0, added.stderr);
  const status = await inProject(path.join(project, 'node_modules', '.bin', 'workq-server'), ['status', '--json']);
  t.is(status.code, 0, status.stderr);
  t.like(JSON.parse(status.stdout), { instances: [{ name: 'packed', port, state: 'ready' }] });
  const queue = await inProject(path.join(project, 'node_modules', '.bin', 'workq'), ['--server', `127.0.0.1:${port}`, 'inspect', 'queue', 'pm2']);
  t.is(queue.stdout.trim(), 'pm2 ready 1 scheduled 0', queue.stderr);
  t.true(existsSync(path.join(project, 'data', 'packed')), 'the log is in the directory PM2 was started in');
});
