'use strict';
// npm run test:restart [-- --seconds N --every MS --node N --php N --mode handoff|activation]
// Restarts a daemon again and again under load, by hand-off (serve --takeover)
// and under socket activation (systemd-socket-activate), with real Node
// clients and PHP page views on persistent connections; prints what was sent
// and what failed, and exits 1 if anything failed.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { restartUnderLoad } = require('../test/helpers/restart-load');

function option(name, fallback) {
  const at = process.argv.indexOf('--' + name);
  return at === -1 ? fallback : process.argv[at + 1];
}

const seconds = Number(option('seconds', 15));
const every = Number(option('every', 2000));
const nodeClients = Number(option('node', 4));
const phpWorkers = Number(option('php', 4));
const modes = option('mode', 'handoff,activation').split(',');

(async () => {
  let failed = 0;
  for (const mode of modes) {
    if (mode === 'activation' && spawnSync('systemd-socket-activate', ['--version']).status !== 0) {
      console.log('activation: skipped (systemd-socket-activate is not installed; Debian package systemd)');
      continue;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixl-ipc-restart-'));
    try {
      const started = Date.now();
      const result = await restartUnderLoad({ mode, dir, seconds, restartEveryMs: every, minRestarts: 1, nodeClients, concurrency: 4, phpWorkers });
      const took = ((Date.now() - started) / 1000).toFixed(1);
      console.log(`${mode}: ${result.restarts} restarts in ${took} s`);
      console.log(`  Node (${nodeClients} clients x 4 in flight): sent ${result.node.sent}, failed ${result.node.failed}`);
      console.log(`  PHP (${phpWorkers} workers, persistent page views): sent ${result.php.sent}, failed ${result.php.failed}`);
      for (const [what, count] of Object.entries({ ...result.node.errors, ...result.php.errors })) console.log(`    ${count} x ${what}`);
      if (mode === 'activation' && !result.socketInodeKept) {
        console.log('  the socket was replaced: it should be the one systemd-socket-activate made');
        failed++;
      }
      failed += result.node.failed + result.php.failed;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  process.exitCode = failed === 0 ? 0 : 1;
})().catch((err) => {
  console.error(err.stack || err.message);
  process.exitCode = 1;
});
