import { fileURLToPath } from 'node:url';

// PM2 reads this file with require(); Node.js 20.19+ loads it as an ES module and PM2
// takes `apps` from the module's exports.
export const apps = [
  {
    name: 'workq',
    // Found from this file, so that `pm2 start node_modules/workq-ts/ecosystem.config.js` works from
    // a project that installed the package; PM2 runs it in the directory `pm2 start` ran in, where
    // config/default.json's ./data/9922 then lives.
    script: fileURLToPath(new URL('dist/supervisor/main.js', import.meta.url)),
    // The supervisor is the node:cluster primary itself: PM2's cluster mode would make it a worker.
    // In fork mode `pm2 reload` is PM2's restart (stop, then start: a cold restart); the hot
    // restart is `pm2 sendSignal SIGHUP workq` (docs/operations.md, With PM2).
    exec_mode: 'fork',
    instances: 1,
    autorestart: true,
    // Wait for the supervisor's process.send('ready'): every server has replayed its log and
    // listens. A supervisor with an instance left down does not send it (see docs/operations.md);
    // one with no instance able to serve exits 1, and PM2 restarts it until max_restarts.
    wait_ready: true,
    listen_timeout: 120000,
    // A stop lets every server finish its commands, flush and fsync its log (the supervisor kills a server after 10 s).
    kill_timeout: 15000,
    env: {
      NODE_ENV: 'production',
    },
  },
];

export default { apps };
