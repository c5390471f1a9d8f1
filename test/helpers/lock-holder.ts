// A process that holds a lock until it is killed, for tests of the directory lock:
//   lock-holder.ts flock FILE   takes flock(LOCK_EX) on FILE, as the original Workq server does on append.lock;
//   lock-holder.ts dir DIR      locks DIR as a server does before its replay.
// It prints "locked" once it holds the lock.
import fs from 'node:fs';
import { pino } from 'pino';
import { lockDirectory } from '../../src/cmdlog/dir-lock.js';
import { loadFlock } from '../../src/cmdlog/flock.js';

const [mode, target] = process.argv.slice(2);
if (mode === 'flock') {
  const outcome = (await loadFlock())(fs.openSync(target!, 'a'));
  if (outcome !== 'taken') throw new Error(`flock on ${target}: ${JSON.stringify(outcome)}`);
} else {
  await lockDirectory(target!, pino({ level: 'silent' }));
}
process.stdout.write('locked\n');
setInterval(() => undefined, 1 << 30);
