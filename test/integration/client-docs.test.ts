import test from 'ava';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { startTestServer } from '../helpers/wire.js';
import { root } from '../helpers/process.js';

const run = promisify(execFile);

interface Example {
  lang: 'ts' | 'sh';
  code: string;
  line: number;
}

async function examples(): Promise<Example[]> {
  const text = await readFile(path.join(root, 'docs/client.md'), 'utf8');
  const found: Example[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|sh) example$/.exec(lines[i] ?? '');
    if (open === null) continue;
    const start = i + 1;
    while (i < lines.length && lines[i + 1] !== '```') i++;
    found.push({ lang: open[1] as 'ts' | 'sh', code: lines.slice(start, i + 1).join('\n'), line: start });
    i++;
  }
  return found;
}

const all = await examples();
/** The examples import the package by its published name, as a user would. */
const packageName = (JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { name: string }).name;

test('the docs have examples of both kinds', (t) => {
  t.true(all.filter((e) => e.lang === 'ts').length >= 4);
  t.true(all.some((e) => e.lang === 'sh'));
});

for (const example of all) {
  test.serial(`docs/client.md example at line ${example.line} (${example.lang})`, async (t) => {
    // Each example starts node with tsx, the sh one eight times: seconds each on a loaded machine.
    t.timeout(180_000);
    const servers = await Promise.all([startTestServer(), startTestServer(), startTestServer()]);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'workq-docs-'));
    t.teardown(async () => {
      await Promise.all(servers.map((s) => s.stop()));
      await rm(dir, { recursive: true, force: true });
    });
    const env = { ...process.env, WORKQ_SERVERS: servers.map((s) => `127.0.0.1:${s.port}`).join(',') };
    let stdout: string;
    if (example.lang === 'ts') {
      const index = pathToFileURL(path.join(root, 'src/client/index.ts')).href;
      const file = path.join(dir, 'example.mts');
      await writeFile(file, example.code.replaceAll(`from '${packageName}'`, `from '${index}'`));
      ({ stdout } = await run(process.execPath, ['--import=tsx', file], { cwd: root, env, timeout: 60_000 }));
      const expected = [...example.code.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1]);
      const printed = stdout.trimEnd().split('\n');
      t.deepEqual(printed.slice(printed.length - expected.length), expected);
    } else {
      const shim = path.join(dir, 'workq');
      await writeFile(shim, `#!/bin/sh\nexec "${process.execPath}" --import=tsx "${path.join(root, 'src/cli/workq.ts')}" "$@"\n`);
      await chmod(shim, 0o755);
      ({ stdout } = await run('bash', ['-euo', 'pipefail', '-c', example.code], {
        cwd: root,
        env: { ...env, PATH: `${dir}:${process.env['PATH'] ?? ''}` },
        timeout: 150_000,
      }));
      t.regex(stdout, /thumbs ready 1 scheduled 0/);
      t.regex(stdout, /completed\nsmall image/);
      t.regex(stdout, /exit code 2/);
      t.regex(stdout, /thumbs ready 1 scheduled 0 paused\n/);
      t.regex(stdout, /retried 0\n/);
    }
  });
}
