// `npm run prepare` (npm install in a checkout, install from git, npm pack and publish):
// a clean build without source maps, as the package ships it. dist/ is removed first so
// that no file of a deleted module is packed, and the bins (dist/src/cli/) are made executable, which
// npm does on install but not for `npx workq` in a checkout.
import { execFileSync } from 'node:child_process';
import { chmodSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
for (const file of readdirSync('dist/src/cli')) if (file.endsWith('.js')) chmodSync(`dist/src/cli/${file}`, 0o755);
