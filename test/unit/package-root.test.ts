import test from 'ava';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { packageRoot, packageVersion } from '../../src/config/package-root.js';
import { defaultConfigFile } from '../../src/config/load.js';
import { root } from '../helpers/process.js';

// The package finds itself from its modules' location, not by its name, so that a
// rename or an install under node_modules/<any name> keeps the defaults and --version.

test('the package root is the nearest directory with a package.json', (t) => {
  t.is(packageRoot(), root);
  t.is(defaultConfigFile(), path.join(root, 'config', 'default.json'));
});

test('the version is the one in package.json', async (t) => {
  const manifest = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string };
  t.is(packageVersion(), manifest.version);
});
