import cluster from 'node:cluster';
import { runChild } from './child.js';
import { runPrimary } from './run.js';

// One entry for both roles: PM2 (or `npm start`) runs it as the primary, and the
// primary forks it again as each server child.
const argv = process.argv.slice(2);
if (cluster.isPrimary) await runPrimary(argv);
else runChild(argv);
